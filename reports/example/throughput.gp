# throughput.gp - written by `attnbench report`; the data is in throughput.dat.
# Edit and re-draw in this directory: gnuplot throughput.gp
set encoding utf8
formats = "png"
do for [fmt in formats] {
if (fmt eq "svg") {
    set terminal svg size 1600,1400 dynamic noenhanced font "Sans,12" background "white"
} else {
    if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
        set terminal pngcairo size 1600,1400 noenhanced font "Sans,11"
    } else {
        set terminal png size 1600,1400 noenhanced
    }
}
set output "throughput.".fmt
reset
set grid lc rgb "#e0e0e0"
set key outside below center horizontal Left reverse spacing 1.1 samplen 3 width 1 height 1
set border lw 1
set multiplot layout 2,2 title "Throughput\nAMD EPYC (host vm, devices: cpu, llvmpipe (LLVM 15.0.6, 256 bits))"
set title "Prefill: GFLOP/s against seq_len\nprefill, batch 1, 8 heads, 2 KV heads, head_dim 64, f32"
unset logscale x
set xtics autofreq
set logscale x 2
set xrange [98.4615:2662.4]
set xlabel "seq_len (new tokens per call)"
unset logscale y
set ytics autofreq
set logscale y 10
set yrange [2.887:197.719]
set ytics (5, 10, 20, 50, 100)
set ylabel "GFLOP/s"
set xtics (128, 256, 512, 1024, 2048)
set format y "%g"
plot "throughput.dat" index 0 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#1f77b4" dt 1 pt 7 title "naive", \
     "throughput.dat" index 1 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#d62728" dt 1 pt 5 title "blocked", \
     "throughput.dat" index 2 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#2ca02c" dt 1 pt 9 title "blas", \
     "throughput.dat" index 3 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#ff7f0e" dt 1 pt 13 title "vulkan"
set title "Decode: GB/s against cache_len\ndecode, batch 1, 8 heads, 2 KV heads, head_dim 64, f32"
unset logscale x
set xtics autofreq
set logscale x 2
set xrange [393.846:21299.2]
set xlabel "cache_len (keys attended)"
unset logscale y
set ytics autofreq
set logscale y 10
set yrange [1.03131:67.0448]
set ytics (2, 5, 10, 20, 50)
set ylabel "GB/s"
set xtics (512, 2048, 8192, 16384)
set format y "%g"
plot "throughput.dat" index 4 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#1f77b4" dt 1 pt 7 title "naive", \
     "throughput.dat" index 5 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#d62728" dt 1 pt 5 title "blocked", \
     "throughput.dat" index 6 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#2ca02c" dt 1 pt 9 title "blas", \
     "throughput.dat" index 7 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#ff7f0e" dt 1 pt 13 title "vulkan"
set title "Prefill: % of peak FLOP/s\nprefill, batch 1, 8 heads, 2 KV heads, head_dim 64, f32"
unset logscale x
set xtics autofreq
set logscale x 2
set xrange [98.4615:2662.4]
set xlabel "seq_len (new tokens per call)"
unset logscale y
set ytics autofreq
set logscale y 10
set yrange [1.68462:115.323]
set ytics (2, 5, 10, 20, 50, 100)
set ylabel "% of peak FLOP/s"
set xtics (128, 256, 512, 1024, 2048)
set format y "%g"
plot "throughput.dat" index 8 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#1f77b4" dt 1 pt 7 title "naive", \
     "throughput.dat" index 9 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#d62728" dt 1 pt 5 title "blocked", \
     "throughput.dat" index 10 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#2ca02c" dt 1 pt 9 title "blas", \
     "throughput.dat" index 11 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#ff7f0e" dt 1 pt 13 title "vulkan"
set title "Decode: % of peak memory bandwidth\ndecode, batch 1, 8 heads, 2 KV heads, head_dim 64, f32"
unset logscale x
set xtics autofreq
set logscale x 2
set xrange [393.846:21299.2]
set xlabel "cache_len (keys attended)"
unset logscale y
set ytics autofreq
set logscale y 10
set yrange [0.569231:37.063]
set ytics (1, 2, 5, 10, 20)
set ylabel "% of peak bandwidth"
set xtics (512, 2048, 8192, 16384)
set format y "%g"
plot "throughput.dat" index 12 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#1f77b4" dt 1 pt 7 title "naive", \
     "throughput.dat" index 13 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#d62728" dt 1 pt 5 title "blocked", \
     "throughput.dat" index 14 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#2ca02c" dt 1 pt 9 title "blas", \
     "throughput.dat" index 15 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#ff7f0e" dt 1 pt 13 title "vulkan"
unset multiplot
set output
}
