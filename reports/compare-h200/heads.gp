# heads.gp - written by `attnbench report`; the data is in heads.dat.
# Edit and re-draw in this directory: gnuplot heads.gp
set encoding utf8
formats = "png"
do for [fmt in formats] {
if (fmt eq "svg") {
    set terminal svg size 1600,850 dynamic noenhanced font "Sans,12" background "white"
} else {
    if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
        set terminal pngcairo size 1600,850 noenhanced font "Sans,11"
    } else {
        set terminal png size 1600,850 noenhanced
    }
}
set output "heads.".fmt
reset
set grid lc rgb "#e0e0e0"
set key outside below center horizontal Left reverse spacing 1.1 samplen 3 width 1 height 1
set border lw 1
set multiplot layout 1,2 title "Prefill time against heads and GQA ratio\nAMD EPYC (host vm [AMD EPYC], devices: cpu, llvmpipe (LLVM 15.0.6, 256 bits)); Intel(R) Xeon(R) Processor (host vm [Intel(R) Xeon(R) Processor], devices: cpu, NVIDIA H200)"
unset logscale
set title "against the GQA ratio at fixed n_heads\nprefill, batch 1, head_dim 64, seq_len 512, f32"
unset logscale x
set xtics autofreq
set logscale x 2
set xrange [0.769231:41.6]
set xlabel "GQA ratio n_heads / n_kv_heads (1 = MHA)"
unset logscale y
set ytics autofreq
set logscale y 10
set yrange [669.82:855172]
set ylabel "time per prefill call (µs)"
set format y "%g"
set xtics (1, 2, 4, 8, 32)
plot "heads.dat" index 0 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#1f77b4" dt 1 pt 7 title "naive @ vm [AMD EPYC]/cpu, 8 heads", \
     "heads.dat" index 1 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#1f77b4" dt 2 pt 7 title "naive @ vm [AMD EPYC]/cpu, 32 heads", \
     "heads.dat" index 2 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#d62728" dt 1 pt 5 title "blocked @ vm [AMD EPYC]/cpu, 8 heads", \
     "heads.dat" index 3 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#d62728" dt 2 pt 5 title "blocked @ vm [AMD EPYC]/cpu, 32 heads", \
     "heads.dat" index 4 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#2ca02c" dt 1 pt 9 title "blas @ vm [AMD EPYC]/cpu, 8 heads", \
     "heads.dat" index 5 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#2ca02c" dt 2 pt 9 title "blas @ vm [AMD EPYC]/cpu, 32 heads", \
     "heads.dat" index 6 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#ff7f0e" dt 1 pt 13 title "vulkan @ vm [AMD EPYC]/llvmpipe (LLVM 15.0.6, 256 bits), 8 heads", \
     "heads.dat" index 7 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#ff7f0e" dt 2 pt 13 title "vulkan @ vm [AMD EPYC]/llvmpipe (LLVM 15.0.6, 256 bits), 32 heads", \
     "heads.dat" index 8 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#d62728" dt 1 pt 4 title "blocked @ vm [Intel(R) Xeon(R) Processor]/cpu, 8 heads", \
     "heads.dat" index 9 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#d62728" dt 2 pt 4 title "blocked @ vm [Intel(R) Xeon(R) Processor]/cpu, 32 heads", \
     "heads.dat" index 10 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#2ca02c" dt 1 pt 8 title "blas @ vm [Intel(R) Xeon(R) Processor]/cpu, 8 heads", \
     "heads.dat" index 11 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#2ca02c" dt 2 pt 8 title "blas @ vm [Intel(R) Xeon(R) Processor]/cpu, 32 heads", \
     "heads.dat" index 12 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#ff7f0e" dt 1 pt 12 title "vulkan @ vm [Intel(R) Xeon(R) Processor]/NVIDIA H200, 8 heads", \
     "heads.dat" index 13 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#ff7f0e" dt 2 pt 12 title "vulkan @ vm [Intel(R) Xeon(R) Processor]/NVIDIA H200, 32 heads"
unset logscale
set title "against n_heads at a fixed GQA ratio\nprefill, batch 1, GQA ratio 1, head_dim 64, seq_len 512, f32"
unset logscale x
set xtics autofreq
set xrange [6.08:33.92]
set xlabel "n_heads (query heads)"
unset logscale y
set ytics autofreq
set logscale y 10
set yrange [944.385:790282]
set ylabel "time per prefill call (µs)"
set format y "%g"
set xtics (8, 32)
plot "heads.dat" index 14 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#1f77b4" dt 1 pt 7 title "naive @ vm [AMD EPYC]/cpu", \
     "heads.dat" index 15 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#d62728" dt 1 pt 5 title "blocked @ vm [AMD EPYC]/cpu", \
     "heads.dat" index 16 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#2ca02c" dt 1 pt 9 title "blas @ vm [AMD EPYC]/cpu", \
     "heads.dat" index 17 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#ff7f0e" dt 1 pt 13 title "vulkan @ vm [AMD EPYC]/llvmpipe (LLVM 15.0.6, 256 bits)", \
     "heads.dat" index 18 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#d62728" dt 2 pt 4 title "blocked @ vm [Intel(R) Xeon(R) Processor]/cpu", \
     "heads.dat" index 19 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#2ca02c" dt 2 pt 8 title "blas @ vm [Intel(R) Xeon(R) Processor]/cpu", \
     "heads.dat" index 20 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#ff7f0e" dt 2 pt 12 title "vulkan @ vm [Intel(R) Xeon(R) Processor]/NVIDIA H200"
unset multiplot
set output
}
