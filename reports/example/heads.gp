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
set multiplot layout 1,2 title "Prefill time against heads and GQA ratio\nAMD EPYC (host vm, devices: cpu, llvmpipe (LLVM 15.0.6, 256 bits))"
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
set yrange [1.4964:414.845]
set ytics (2, 5, 10, 20, 50, 100, 200)
set ylabel "time per prefill call (ms)"
set format y "%g"
set xtics (1, 2, 4, 8, 32)
plot "heads.dat" index 0 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#1f77b4" dt 1 pt 7 title "naive, 8 heads", \
     "heads.dat" index 1 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#1f77b4" dt 2 pt 7 title "naive, 32 heads", \
     "heads.dat" index 2 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#d62728" dt 1 pt 5 title "blocked, 8 heads", \
     "heads.dat" index 3 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#d62728" dt 2 pt 5 title "blocked, 32 heads", \
     "heads.dat" index 4 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#2ca02c" dt 1 pt 9 title "blas, 8 heads", \
     "heads.dat" index 5 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#2ca02c" dt 2 pt 9 title "blas, 32 heads", \
     "heads.dat" index 6 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#ff7f0e" dt 1 pt 13 title "vulkan, 8 heads", \
     "heads.dat" index 7 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#ff7f0e" dt 2 pt 13 title "vulkan, 32 heads"
unset logscale
set title "against n_heads at a fixed GQA ratio\nprefill, batch 1, GQA ratio 1, head_dim 64, seq_len 512, f32"
unset logscale x
set xtics autofreq
set xrange [6.08:33.92]
set xlabel "n_heads (query heads)"
unset logscale y
set ytics autofreq
set logscale y 10
set yrange [1.61126:369.979]
set ytics (2, 5, 10, 20, 50, 100, 200)
set ylabel "time per prefill call (ms)"
set format y "%g"
set xtics (8, 32)
plot "heads.dat" index 8 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#1f77b4" dt 1 pt 7 title "naive", \
     "heads.dat" index 9 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#d62728" dt 1 pt 5 title "blocked", \
     "heads.dat" index 10 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#2ca02c" dt 1 pt 9 title "blas", \
     "heads.dat" index 11 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#ff7f0e" dt 1 pt 13 title "vulkan"
unset multiplot
set output
}
