# ablation.gp - the overhead breakdown as a waterfall: per workload, the raw twin's bar, then
# each safe-layer mechanism's cost (safe minus safe without it) stacked on it with its 95 %
# interval, the interaction term, and the safe twin's bar where the steps arrive.
# Data (written by twinbench report): one line per bar,
#   label from to low high kind     (kind 1 raw, 2 mechanism, 3 interaction, 4 safe)
# Variables: plotdir datafile outbase plottitle corner ylab ymin ymax plotwidth
load plotdir.'/common.gp'
set key off
set xtics rotate by 40 right noenhanced
set lmargin 14
set bmargin 9
set ylabel ylab
set yrange [ymin:ymax]
set style fill solid 0.85 border -1
kindcolor(k) = k == 1 ? 0x1f77b4 : k == 2 ? 0xd62728 : k == 3 ? 0x7f7f7f : 0x2ca02c
do for [t in 'svg png'] {
	if (t eq 'svg') { eval svgterm } else { eval pngterm }
	set output outbase.'.'.t
	plot datafile using 0:3:($0 - 0.38):($0 + 0.38):($2 < $3 ? $2 : $3):($2 < $3 ? $3 : $2):(kindcolor($6)):xtic(1) \
		with boxxyerror lc rgb variable, \
		'' using 0:($6 == 2 || $6 == 3 ? $3 : 1/0):4:5 with yerrorbars lc rgb '#222222' pt 7 ps 0
}
set output
