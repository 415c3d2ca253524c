# absolute.gp - absolute throughput of every arm side by side per workload (mean with the
# sample standard deviation as error bar), so a ratio is never shown without its numbers.
# Data: header line "workload arm1 sd arm2 sd ...", then one line per workload.
# Variables: plotdir datafile outbase plottitle corner nseries ylab
load plotdir.'/common.gp'
set key autotitle columnhead
set style data histograms
set style histogram errorbars gap 1.5 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by 30 right noenhanced
set lmargin 16
set xlabel 'workload'
set ylabel ylab
set yrange [0:*]
set format y '%.1s%c'
do for [t in 'svg png'] {
	if (t eq 'svg') { eval svgterm } else { eval pngterm }
	set output outbase.'.'.t
	plot for [i=1:nseries] datafile using (column(2 * i)):(column(2 * i + 1)):xtic(1) \
		lt i title columnhead(2 * i)
}
set output
