# decode.gp - written by `attnbench report`; the data is in decode.dat.
# Edit and re-draw in this directory: gnuplot decode.gp
set encoding utf8
formats = "png"
do for [fmt in formats] {
if (fmt eq "svg") {
    set terminal svg size 1100,800 dynamic noenhanced font "Sans,12" background "white"
} else {
    if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
        set terminal pngcairo size 1100,800 noenhanced font "Sans,11"
    } else {
        set terminal png size 1100,800 noenhanced
    }
}
set output "decode.".fmt
reset
set grid lc rgb "#e0e0e0"
set key outside below center horizontal Left reverse spacing 1.1 samplen 3 width 1 height 1
set border lw 1
set title "Decode step time against cache length\ndecode, batch 1, 8 heads, 2 KV heads, head_dim 64, f32\nAMD EPYC (host vm, devices: cpu, llvmpipe (LLVM 15.0.6, 256 bits))"
unset logscale x
set xtics autofreq
set logscale x 2
set xrange [393.846:21299.2]
set xlabel "cache_len (keys attended per decode step)"
unset logscale y
set ytics autofreq
set logscale y 10
set yrange [8.74085:3492.57]
set ytics (10, 20, 50, 100, 200, 500, 1000, 2000)
set ylabel "time per decode step (µs)"
set xtics (512, 2048, 8192, 16384)
set format y "%g"
plot "decode.dat" index 0 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#1f77b4" dt 1 pt 7 title "naive: t ~ n^1.01", \
     "decode.dat" index 1 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#d62728" dt 1 pt 5 title "blocked: t ~ n^0.97", \
     "decode.dat" index 2 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#2ca02c" dt 1 pt 9 title "blas: t ~ n^1.17", \
     "decode.dat" index 3 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#ff7f0e" dt 1 pt 13 title "vulkan: t ~ n^0.50"
set output
}
