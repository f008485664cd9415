# memory.gp - written by `attnbench report`; the data is in memory.dat.
# Edit and re-draw in this directory: gnuplot memory.gp
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
set output "memory.".fmt
reset
set grid lc rgb "#e0e0e0"
set key outside below center horizontal Left reverse spacing 1.1 samplen 3 width 1 height 1
set border lw 1
set title "Memory: KV cache and backend workspace against sequence length\nprefill, batch 1, 8 heads, 2 KV heads, head_dim 64, f32\nAMD EPYC (host vm, devices: cpu, llvmpipe (LLVM 15.0.6, 256 bits))"
unset logscale x
set xtics autofreq
set logscale x 2
set xrange [98.4615:2662.4]
set xlabel "seq_len (tokens)"
unset logscale y
set ytics autofreq
set logscale y 2
set yrange [50412.3:2.18104e+07]
set ylabel "bytes"
set ytics ("32 KiB" 32768, "128 KiB" 131072, "512 KiB" 524288, "2 MiB" 2097152, "8 MiB" 8388608, "32 MiB" 33554432)
set xtics (128, 256, 512, 1024, 2048)
plot "memory.dat" index 0 using 1:2 with linespoints lw 3 lc rgb "black" pt 6 title "KV cache (every backend)", \
     "memory.dat" index 1 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#1f77b4" dt 1 pt 7 title "workspace: naive", \
     "memory.dat" index 2 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#d62728" dt 1 pt 5 title "workspace: blocked", \
     "memory.dat" index 3 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#2ca02c" dt 1 pt 9 title "workspace: blas", \
     "memory.dat" index 4 using 1:2 with linespoints lw 2 ps 1.1 lc rgb "#ff7f0e" dt 1 pt 13 title "workspace: vulkan"
set output
}
