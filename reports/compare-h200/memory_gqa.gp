# memory_gqa.gp - written by `attnbench report`; the data is in memory_gqa.dat.
# Edit and re-draw in this directory: gnuplot memory_gqa.gp
set encoding utf8
formats = "png"
do for [fmt in formats] {
if (fmt eq "svg") {
    set terminal svg size 1000,750 dynamic noenhanced font "Sans,12" background "white"
} else {
    if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
        set terminal pngcairo size 1000,750 noenhanced font "Sans,11"
    } else {
        set terminal png size 1000,750 noenhanced
    }
}
set output "memory_gqa.".fmt
reset
set grid lc rgb "#e0e0e0"
set key outside below center horizontal Left reverse spacing 1.1 samplen 3 width 1 height 1
set border lw 1
set title "KV-cache size against the GQA ratio\nprefill, batch 1, head_dim 64, seq_len 512, f32\nAMD EPYC (host vm [AMD EPYC]); Intel(R) Xeon(R) Processor (host vm [Intel(R) Xeon(R) Processor])"
unset logscale x
set xtics autofreq
set logscale x 2
set xrange [0.769231:41.6]
set xlabel "GQA ratio n_heads / n_kv_heads (1 = MHA, n_heads = MQA)"
unset logscale y
set ytics autofreq
set logscale y 2
set yrange [201649:1.09052e+07]
set ylabel "KV-cache bytes"
set ytics ("128 KiB" 131072, "256 KiB" 262144, "512 KiB" 524288, "1 MiB" 1048576, "2 MiB" 2097152, "4 MiB" 4194304, "8 MiB" 8388608, "16 MiB" 16777216)
set xtics (1, 2, 4, 8, 32)
plot "memory_gqa.dat" index 0 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#1f77b4" dt 1 pt 7 title "8 heads", \
     "memory_gqa.dat" index 1 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#d62728" dt 1 pt 5 title "32 heads"
set output
}
