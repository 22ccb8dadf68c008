# sweep.gp - the two charts of `teechain bench sweep` results (docs/benchmarks.md).
# Called by scripts/bench-charts.sh, which extracts the data with jq:
#   gnuplot -e "datadir='D'; outdir='O'; series='S1 S2'; labels='L1|L2'; title='T'" sweep.gp
# datadir/<series>.dat holds one line per offered load, sorted:
#   offered_tps committed_tps mean_ms p99_ms
# (a series is <config>-<workload>; labels are the legend texts, '|'-separated).
# Writes outdir/bench-sweep-tps.png and outdir/bench-sweep-latency.png.

set terminal pngcairo size 1200,640 enhanced font 'DejaVu Sans,11'
set grid
set key outside right top box
set xlabel 'offered load (tx/s)'
set xrange [0:*]
set yrange [0:*]
set datafile missing 'null'
n = words(series)
label(i) = (i <= n) ? system(sprintf("printf '%%s' '%s' | cut -d'|' -f%d", labels, i)) : ''
file(i) = sprintf('%s/%s.dat', datadir, word(series, i))

set output outdir.'/bench-sweep-tps.png'
set title title."\nCommitted throughput vs offered load" noenhanced
set ylabel 'committed TPS (tx/s, steady window)'
plot for [i=1:n] file(i) using 1:2 with linespoints lw 2 pt 7 ps 1.2 lc i title label(i) noenhanced, \
     x with lines dt 2 lw 1.5 lc rgb 'gray40' title 'committed = offered'

set output outdir.'/bench-sweep-latency.png'
set title title."\nSend-to-commit latency vs offered load (solid: average, dashed: p99)" noenhanced
set ylabel 'latency (ms)'
plot for [i=1:n] file(i) using 1:3 with linespoints lw 2 pt 7 ps 1.2 lc i title label(i).' avg' noenhanced, \
     for [i=1:n] file(i) using 1:4 with linespoints lw 2 dt 2 pt 6 ps 1.2 lc i title label(i).' p99' noenhanced
