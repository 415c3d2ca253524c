# latency.gp - completion latency percentiles (fio clat p50, p99, p99.9) per workload and
# arm, clustered, on a log axis so the tail stays readable next to the median.
# Data: header line "label p50 p99 p99.9", then one line per workload/arm (microseconds).
# Variables: plotdir datafile outbase plottitle corner ylab
load plotdir.'/common.gp'
set key autotitle columnhead
set style data histograms
set style histogram clustered gap 1.5
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y 10
set xtics rotate by 30 right noenhanced
set lmargin 16
set xlabel 'workload / arm'
set ylabel ylab
do for [t in 'svg png'] {
	if (t eq 'svg') { eval svgterm } else { eval pngterm }
	set output outbase.'.'.t
	plot for [i=2:4] datafile using i:xtic(1) lt i title columnhead(i)
}
set output
