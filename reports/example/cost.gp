# cost.gp - written by `attnbench report`; the data is in cost.dat.
# Edit and re-draw in this directory: gnuplot cost.gp
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
set output "cost.".fmt
reset
set grid lc rgb "#e0e0e0"
set key outside below center horizontal Left reverse spacing 1.1 samplen 3 width 1 height 1
set border lw 1
set title "Prefill time against sequence length (log-log)\nbatch 1, 8 heads, 2 KV heads, head_dim 64, f32\nAMD EPYC (host vm, devices: cpu, llvmpipe (LLVM 15.0.6, 256 bits))"
unset logscale x
set xtics autofreq
set logscale x 2
set xrange [98.4615:2662.4]
set xlabel "seq_len (new tokens per prefill call)"
unset logscale y
set ytics autofreq
set logscale y 10
set yrange [149.855:1.48841e+06]
set ylabel "time per prefill call (µs)"
set xtics (128, 256, 512, 1024, 2048)
set format y "%g"
plot "cost.dat" index 0 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#1f77b4" dt 1 pt 7 title "naive: t ~ n^2.00", \
     "cost.dat" index 1 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#d62728" dt 1 pt 5 title "blocked: t ~ n^1.96", \
     "cost.dat" index 2 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#2ca02c" dt 1 pt 9 title "blas: t ~ n^1.62", \
     "cost.dat" index 3 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#ff7f0e" dt 1 pt 13 title "vulkan: t ~ n^1.84", \
     "cost.dat" index 4 using 1:2 with lines lw 1.5 dt 2 lc rgb "black" title "slope 2 (t ~ n^2, reference)"
set output
}
