# boots.gp - one arm's level per guest boot: the mean of each boot's samples as points and
# the arm's mean over its boots as a line, so a boot that settled at its own level shows.
# Data: blocks separated by two blank lines, one per arm, each "boot boot_mean arm_mean".
# Variables: plotdir datafile outbase plottitle corner nseries titles ylab
load plotdir.'/common.gp'
stats datafile using 1 nooutput
set xrange [STATS_min - 0.5:STATS_max + 0.5]
set offsets 0, 0, graph 0.05, graph 0.05
set xtics 1
set xlabel 'guest boot'
set ylabel ylab
set lmargin 12
set format y '%.2s%c'
off(i) = (i - (nseries - 1) / 2.0) * 0.3 / nseries
do for [t in 'svg png'] {
	if (t eq 'svg') { eval svgterm } else { eval pngterm }
	set output outbase.'.'.t
	plot for [i=0:nseries - 1] datafile index i using ($1 + off(i)):2 with points \
		lt (i + 1) ps 1.5 title word(titles, i + 1), \
	     for [i=0:nseries - 1] datafile index i using 1:3 with lines lt (i + 1) dt 2 \
		notitle
}
set output
