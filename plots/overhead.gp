# overhead.gp - where the CPU time of one I/O goes, stacked per workload and arm: time in
# the driver, in hard and soft interrupts, and the rest of the CPU time; IRQs per I/O on
# the right axis.
# Data: header "label driver hardirq softirq other irqs", one line per workload/arm (ns).
# Variables: plotdir datafile outbase plottitle corner ylab y2max
load plotdir.'/common.gp'
set key autotitle columnhead
set style data histograms
set style histogram rowstacked gap 1
set style fill solid 0.85 border -1
set boxwidth 0.7
set xtics rotate by 30 right noenhanced
set lmargin 16
set xlabel 'workload / arm'
set ylabel ylab
set yrange [0:*]
set y2label 'IRQs per I/O'
set y2range [0:y2max]
set y2tics
set border 11
do for [t in 'svg png'] {
	if (t eq 'svg') { eval svgterm } else { eval pngterm }
	set output outbase.'.'.t
	plot for [i=2:5] datafile using i:xtic(1) lt i title columnhead(i), \
		'' using 0:6 axes x1y2 with points lt 8 pt 7 ps 1.3 title 'IRQs per I/O (right axis)'
}
set output
