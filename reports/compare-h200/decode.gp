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
set title "Decode step time against cache length\ndecode, batch 1, 8 heads, 2 KV heads, head_dim 64, f32\nAMD EPYC (host vm [AMD EPYC], devices: cpu, llvmpipe (LLVM 15.0.6, 256 bits)); Intel(R) Xeon(R) Processor (host vm [Intel(R) Xeon(R) Processor], devices: cpu, NVIDIA H200)"
unset logscale x
set xtics autofreq
set logscale x 2
set xrange [393.846:21299.2]
set xlabel "cache_len (keys attended per decode step)"
unset logscale y
set ytics autofreq
set logscale y 10
set yrange [33.7587:51131]
set ylabel "time per decode step (µs)"
set xtics (512, 2048, 8192, 16384)
set format y "%g"
plot "decode.dat" index 0 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#1f77b4" dt 1 pt 7 title "naive @ vm [AMD EPYC]/cpu: t ~ n^1.12", \
     "decode.dat" index 1 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#d62728" dt 1 pt 5 title "blocked @ vm [AMD EPYC]/cpu: t ~ n^1.00", \
     "decode.dat" index 2 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#2ca02c" dt 1 pt 9 title "blas @ vm [AMD EPYC]/cpu: t ~ n^1.39", \
     "decode.dat" index 3 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#ff7f0e" dt 1 pt 13 title "vulkan @ vm [AMD EPYC]/llvmpipe (LLVM 15.0.6, 256 bits): t ~ n^0.43", \
     "decode.dat" index 4 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#d62728" dt 2 pt 4 title "blocked @ vm [Intel(R) Xeon(R) Processor]/cpu: t ~ n^1.03", \
     "decode.dat" index 5 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#2ca02c" dt 2 pt 8 title "blas @ vm [Intel(R) Xeon(R) Processor]/cpu: t ~ n^1.57", \
     "decode.dat" index 6 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#ff7f0e" dt 2 pt 12 title "vulkan @ vm [Intel(R) Xeon(R) Processor]/NVIDIA H200: t ~ n^0.15"
set output
}
