# latdist.gp - block request latency distribution from the BPF histograms (issue to
# completion, all valid samples of a workload merged per arm), drawn as the fraction of
# requests slower than a latency, on log axes, so the median and the tail read off one curve.
# Data: blocks separated by two blank lines, one per arm, each "latency_ns fraction_slower".
# Variables: plotdir datafile outbase plottitle corner nseries titles
load plotdir.'/common.gp'
set logscale x 10
set logscale y 10
set format x '%.0s%cs'
set xlabel 'block request latency (issue to completion, log scale)'
set ylabel 'fraction of requests slower (log scale)'
set yrange [*:1.5]
set format y '%g'
set arrow 1 from graph 0, first 0.5 to graph 1, first 0.5 nohead dt 3 lc rgb '#888888'
set arrow 2 from graph 0, first 0.01 to graph 1, first 0.01 nohead dt 3 lc rgb '#888888'
set arrow 3 from graph 0, first 0.001 to graph 1, first 0.001 nohead dt 3 lc rgb '#888888'
set label 1 'p50' at graph 1, first 0.5 offset 0.5, 0 font ',9' tc rgb '#555555'
set label 2 'p99' at graph 1, first 0.01 offset 0.5, 0 font ',9' tc rgb '#555555'
set label 3 'p99.9' at graph 1, first 0.001 offset 0.5, 0 font ',9' tc rgb '#555555'
set rmargin 8
set grid xtics ytics mxtics lc rgb '#eeeeee'
do for [t in 'svg png'] {
	if (t eq 'svg') { eval svgterm } else { eval pngterm }
	set output outbase.'.'.t
	plot for [i=0:nseries - 1] datafile index i using ($1 * 1e-9):2 with steps lt (i + 1) \
		title word(titles, i + 1)
}
set output
