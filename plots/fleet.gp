# fleet.gp - one pair's ratio over the nights, one line per machine, for the dashboard:
# each night's ratio with its 95 % interval, a red ring where either arm regressed against
# that machine's earlier nights, an orange square on the nights of a drift or change point.
# Data: blocks separated by two blank lines, one per machine, each line
# "started ratio ci_low ci_high" (started as 2026-11-01T02:00:00Z); then a block of the
# regressed nights and one of the drifting nights, "started ratio" (when nreg, ndrift > 0).
# Variables: plotdir datafile outbase plottitle corner nseries titles ylab nreg ndrift
# xfirst xlast (the earliest and latest night: a day around it when they are the same)
load plotdir.'/common.gp'
set xdata time
set timefmt '%Y-%m-%dT%H:%M:%SZ'
set format x '%m-%d %Hh'
if (xfirst eq xlast) {
	t0 = strptime('%Y-%m-%dT%H:%M:%SZ', xfirst)
	set xrange [t0 - 43200:t0 + 43200]
}
set xtics rotate by -35
set offsets graph 0.03, graph 0.03, graph 0.08, graph 0.08
set ylabel ylab
set lmargin 12
set key at screen 0.5, screen 0.925 center top horizontal noenhanced maxrows 2
# the marks only when there are any (gnuplot warns on a block without points)
marks = ''
if (nreg > 0) {
	marks = marks.sprintf(", datafile index %d using 1:2 with points pt 6 ps 3 lw 2 lc rgb '#d62728' title 'regression'", nseries)
}
if (ndrift > 0) {
	marks = marks.sprintf(", datafile index %d using 1:2 with points pt 4 ps 2.4 lw 2 lc rgb '#ff7f0e' title 'drift'", nseries + (nreg > 0))
}
lines = "for [i=0:nseries - 1] datafile index i using 1:3:4 with filledcurves lc (i + 1) fs transparent solid 0.12 noborder notitle, for [i=0:nseries - 1] datafile index i using 1:2 with linespoints lt (i + 1) title word(titles, i + 1), 1 with lines dt 2 lc rgb '#888888' notitle"
do for [t in 'svg png'] {
	if (t eq 'svg') { eval svgterm } else { eval pngterm }
	set output outbase.'.'.t
	eval 'plot '.lines.marks
}
set output
