# common.gp - settings every twinbench plot shares. Loaded by each plot script.
# Expects: outbase (output path without extension), corner (run id and kernel),
# plotwidth (optional, pixels),
# plottitle. Defines the two terminals and the corner label.
set encoding utf8
set termoption noenhanced
set datafile missing '?'
set datafile separator whitespace
set tmargin 5
set key at screen 0.5, screen 0.925 center top horizontal noenhanced
set grid ytics lc rgb '#dddddd'
set border 3
set tics nomirror
set label 98 plottitle at screen 0.5, screen 0.975 center font ',14' noenhanced
set label 99 corner at screen 0.995, screen 0.012 right font ',8' tc rgb '#555555' noenhanced
set linetype 1 lc rgb '#1f77b4' pt 7 ps 1.0 lw 1.5
set linetype 2 lc rgb '#d62728' pt 5 ps 1.0 lw 1.5
set linetype 3 lc rgb '#2ca02c' pt 9 ps 1.1 lw 1.5
set linetype 4 lc rgb '#ff7f0e' pt 11 ps 1.1 lw 1.5
set linetype 5 lc rgb '#9467bd' pt 13 ps 1.1 lw 1.5
set linetype 6 lc rgb '#8c564b' pt 15 ps 1.1 lw 1.5
set linetype 7 lc rgb '#e377c2' pt 4 ps 1.0 lw 1.5
set linetype 8 lc rgb '#7f7f7f' pt 6 ps 1.0 lw 1.5
set linetype cycle 8
if (!exists("plotwidth")) plotwidth = 960
svgterm = sprintf("set terminal svg size %d,560 dynamic font 'DejaVu Sans,12' background rgb 'white' noenhanced", plotwidth)
pngterm = sprintf("set terminal pngcairo size %d,560 font 'DejaVu Sans,10' background rgb 'white' noenhanced", plotwidth)
