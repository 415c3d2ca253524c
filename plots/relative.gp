# relative.gp - candidate/baseline throughput ratio per workload with its 95 % bootstrap
# interval as error bars: the chart maintainers publish for a safe/raw pair.
# Data (written by twinbench report): header line, then per workload
#   idx workload {ratio ci_low ci_high} x nseries
# Variables: plotdir datafile outbase plottitle corner nseries nrows ylab
load plotdir.'/common.gp'
set key autotitle columnhead
set xrange [0.4:nrows + 0.6]
set xtics rotate by 30 right noenhanced
set lmargin 16
set xlabel 'workload'
set ylabel ylab
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb '#444444' back
off(i) = (i - (nseries + 1.0) / 2.0) * 0.5 / nseries
do for [t in 'svg png'] {
	if (t eq 'svg') { eval svgterm } else { eval pngterm }
	set output outbase.'.'.t
	plot for [i=1:nseries] datafile using ($1 + off(i)):(column(3 * i)):(column(3 * i + 1)):(column(3 * i + 2)) \
		with yerrorbars lt i title columnhead(3 * i), \
		'' using 1:(1.0):xticlabels(2) with lines dt 2 lc rgb '#444444' title 'no change'
}
set output
