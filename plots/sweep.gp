# sweep.gp - one metric against one swept parameter (queue depth, block size, payload),
# one line per arm and fixed workload shape, mean with standard deviation as error bars.
# Data: blocks separated by two blank lines, each "x mean sd" sorted by x.
# Variables: plotdir datafile outbase plottitle corner nseries titles xlab ylab
load plotdir.'/common.gp'
set logscale x 2
set offsets graph 0.03, graph 0.03, 0, 0
set xlabel xlab
set ylabel ylab
set yrange [0:*]
set format y '%.1s%c'
do for [t in 'svg png'] {
	if (t eq 'svg') { eval svgterm } else { eval pngterm }
	set output outbase.'.'.t
	plot for [i=0:nseries - 1] datafile index i using 1:2:3 with yerrorlines lt (i + 1) \
		title word(titles, i + 1)
}
set output
