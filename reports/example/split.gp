# split.gp - written by `attnbench report`; the data is in split.dat.
# Edit and re-draw in this directory: gnuplot split.gp
set encoding utf8
formats = "png"
do for [fmt in formats] {
if (fmt eq "svg") {
    set terminal svg size 1300,850 dynamic noenhanced font "Sans,12" background "white"
} else {
    if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
        set terminal pngcairo size 1300,850 noenhanced font "Sans,11"
    } else {
        set terminal png size 1300,850 noenhanced
    }
}
set output "split.".fmt
reset
set grid lc rgb "#e0e0e0"
set key outside below center horizontal Left reverse spacing 1.1 samplen 3 width 1 height 1
set border lw 1
set title "Time of one request: prefill of P tokens, then T decode steps\nbatch 1, 8 heads, 2 KV heads, head_dim 64, f32; decode interpolated linearly in cache_len\n* prefill at this P not measured: from the power-law fit\nAMD EPYC (host vm, devices: cpu, llvmpipe (LLVM 15.0.6, 256 bits))"
set xrange [0:30]
set xtics scale 0 ("P 512\nT 128" 2.5, "P 512\nT 512" 7.5, "P 2048\nT 128" 12.5, "P 2048\nT 512" 17.5, "P 8192*\nT 128" 22.5, "P 8192*\nT 512" 27.5)
set xlabel "request scenario: P prompt tokens, T generated tokens" offset 0,-0.6
set logscale y 10
set yrange [0.982835:28580.2]
set ylabel "time per request (ms)"
set format y "%g"
set grid noxtics ytics
set arrow from 5, graph 0 to 5, graph 1 nohead lc rgb "#c0c0c0" dt 3
set arrow from 10, graph 0 to 10, graph 1 nohead lc rgb "#c0c0c0" dt 3
set arrow from 15, graph 0 to 15, graph 1 nohead lc rgb "#c0c0c0" dt 3
set arrow from 20, graph 0 to 20, graph 1 nohead lc rgb "#c0c0c0" dt 3
set arrow from 25, graph 0 to 25, graph 1 nohead lc rgb "#c0c0c0" dt 3
plot "split.dat" index 0 using 1:2:4:5:(0.982835):2 with boxxyerror fs solid 1.0 border lc rgb "#404040" fc rgb "#1f77b4" title "naive: prefill", \
     "split.dat" index 0 using 1:3:4:5:2:3 with boxxyerror fs solid 1.0 border lc rgb "#404040" fc rgb "#b4d1e6" title "naive: decode (T steps)", \
     "split.dat" index 1 using 1:2:4:5:(0.982835):2 with boxxyerror fs solid 1.0 border lc rgb "#404040" fc rgb "#d62728" title "blocked: prefill", \
     "split.dat" index 1 using 1:3:4:5:2:3 with boxxyerror fs solid 1.0 border lc rgb "#404040" fc rgb "#f1b7b7" title "blocked: decode (T steps)", \
     "split.dat" index 2 using 1:2:4:5:(0.982835):2 with boxxyerror fs solid 1.0 border lc rgb "#404040" fc rgb "#2ca02c" title "blas: prefill", \
     "split.dat" index 2 using 1:3:4:5:2:3 with boxxyerror fs solid 1.0 border lc rgb "#404040" fc rgb "#b8dfb8" title "blas: decode (T steps)", \
     "split.dat" index 3 using 1:2:4:5:(0.982835):2 with boxxyerror fs solid 1.0 border lc rgb "#404040" fc rgb "#ff7f0e" title "vulkan: prefill", \
     "split.dat" index 3 using 1:3:4:5:2:3 with boxxyerror fs solid 1.0 border lc rgb "#404040" fc rgb "#ffd4ae" title "vulkan: decode (T steps)"
set output
}
