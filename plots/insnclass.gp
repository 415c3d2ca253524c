# insnclass.gp - where a family's extra estimated cycles come from: per workload, candidate
# twin and microarchitecture, the estimated cycles per I/O beyond the raw twin, stacked:
# the extra instructions at the flat cost, then each class's extra count times what the
# class costs beyond the flat cost (docs/insn-classes.md). An estimate, not a time.
# Data (written by twinbench report): header "label flat-cost CLASS...", one line per bar
# (candidate, whole path or driver plus layer, microarchitecture).
# Variables: plotdir datafile outbase plottitle corner ylab ncols plotwidth
load plotdir.'/common.gp'
set linetype 9 lc rgb '#bcbd22' lw 1.5
set linetype 10 lc rgb '#17becf' lw 1.5
set linetype cycle 10
set key autotitle columnhead
set style data histograms
set style histogram rowstacked gap 1
set style fill solid 0.85 border -1
set boxwidth 0.7
set xtics rotate by 30 right noenhanced
set lmargin 24
set bmargin 12
set ylabel ylab
set arrow 1 from graph 0, first 0 to graph 1, first 0 nohead lc rgb '#444444' front
do for [t in 'svg png'] {
	if (t eq 'svg') { eval svgterm } else { eval pngterm }
	set output outbase.'.'.t
	plot for [i=2:ncols] datafile using i:xtic(1) lt (i - 1) title columnhead(i)
}
set output
