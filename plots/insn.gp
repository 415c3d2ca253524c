# insn.gp - where the safe twin's extra instructions go: per workload (and safe arm), the
# safe-minus-raw instructions per I/O of each code class as clustered bars.
# Data (written by twinbench report): header line, then per workload
#   idx label driver layer core kernel
# Variables: plotdir datafile outbase plottitle corner ylab nrows plotwidth
load plotdir.'/common.gp'
set key autotitle columnhead
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by 30 right noenhanced
set lmargin 14
set bmargin 9
set ylabel ylab
set arrow 1 from graph 0, first 0 to graph 1, first 0 nohead lc rgb '#444444' back
do for [t in 'svg png'] {
	if (t eq 'svg') { eval svgterm } else { eval pngterm }
	set output outbase.'.'.t
	plot for [i=3:6] datafile using i:xtic(2) lt (i - 2)
}
set output
