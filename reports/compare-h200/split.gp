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
set title "Time of one request: prefill of P tokens, then T decode steps\nbatch 1, 8 heads, 2 KV heads, head_dim 64, f32; decode interpolated linearly in cache_len\n* prefill at this P not measured: from the power-law fit\nAMD EPYC (host vm [AMD EPYC], devices: cpu, llvmpipe (LLVM 15.0.6, 256 bits)); Intel(R) Xeon(R) Processor (host vm [Intel(R) Xeon(R) Processor], devices: cpu, NVIDIA H200)"
set xrange [0:48]
set xtics scale 0 ("P 512\nT 128" 4, "P 512\nT 512" 12, "P 2048\nT 128" 20, "P 2048\nT 512" 28, "P 8192*\nT 128" 36, "P 8192*\nT 512" 44)
set xlabel "request scenario: P prompt tokens, T generated tokens" offset 0,-0.6
set logscale y 10
set yrange [435.383:7.80136e+07]
set ylabel "time per request (µs)"
set format y "%g"
set grid noxtics ytics
set arrow from 8, graph 0 to 8, graph 1 nohead lc rgb "#c0c0c0" dt 3
set arrow from 16, graph 0 to 16, graph 1 nohead lc rgb "#c0c0c0" dt 3
set arrow from 24, graph 0 to 24, graph 1 nohead lc rgb "#c0c0c0" dt 3
set arrow from 32, graph 0 to 32, graph 1 nohead lc rgb "#c0c0c0" dt 3
set arrow from 40, graph 0 to 40, graph 1 nohead lc rgb "#c0c0c0" dt 3
plot "split.dat" index 0 using 1:2:4:5:(435.383):2 with boxxyerror fs solid 1.0 border lc rgb "#404040" fc rgb "#1f77b4" title "naive @ vm [AMD EPYC]/cpu: prefill", \
     "split.dat" index 0 using 1:3:4:5:2:3 with boxxyerror fs solid 1.0 border lc rgb "#404040" fc rgb "#b4d1e6" title "naive @ vm [AMD EPYC]/cpu: decode (T steps)", \
     "split.dat" index 1 using 1:2:4:5:(435.383):2 with boxxyerror fs solid 1.0 border lc rgb "#404040" fc rgb "#d62728" title "blocked @ vm [AMD EPYC]/cpu: prefill", \
     "split.dat" index 1 using 1:3:4:5:2:3 with boxxyerror fs solid 1.0 border lc rgb "#404040" fc rgb "#f1b7b7" title "blocked @ vm [AMD EPYC]/cpu: decode (T steps)", \
     "split.dat" index 2 using 1:2:4:5:(435.383):2 with boxxyerror fs solid 1.0 border lc rgb "#404040" fc rgb "#2ca02c" title "blas @ vm [AMD EPYC]/cpu: prefill", \
     "split.dat" index 2 using 1:3:4:5:2:3 with boxxyerror fs solid 1.0 border lc rgb "#404040" fc rgb "#b8dfb8" title "blas @ vm [AMD EPYC]/cpu: decode (T steps)", \
     "split.dat" index 3 using 1:2:4:5:(435.383):2 with boxxyerror fs solid 1.0 border lc rgb "#404040" fc rgb "#ff7f0e" title "vulkan @ vm [AMD EPYC]/llvmpipe (LLVM 15.0.6, 256 bits): prefill", \
     "split.dat" index 3 using 1:3:4:5:2:3 with boxxyerror fs solid 1.0 border lc rgb "#404040" fc rgb "#ffd4ae" title "vulkan @ vm [AMD EPYC]/llvmpipe (LLVM 15.0.6, 256 bits): decode (T steps)", \
     "split.dat" index 4 using 1:2:4:5:(435.383):2 with boxxyerror fs solid 1.0 border lc rgb "#404040" fc rgb "#d62728" title "blocked @ vm [Intel(R) Xeon(R) Processor]/cpu: prefill", \
     "split.dat" index 4 using 1:3:4:5:2:3 with boxxyerror fs solid 1.0 border lc rgb "#404040" fc rgb "#f1b7b7" title "blocked @ vm [Intel(R) Xeon(R) Processor]/cpu: decode (T steps)", \
     "split.dat" index 5 using 1:2:4:5:(435.383):2 with boxxyerror fs solid 1.0 border lc rgb "#404040" fc rgb "#2ca02c" title "blas @ vm [Intel(R) Xeon(R) Processor]/cpu: prefill", \
     "split.dat" index 5 using 1:3:4:5:2:3 with boxxyerror fs solid 1.0 border lc rgb "#404040" fc rgb "#b8dfb8" title "blas @ vm [Intel(R) Xeon(R) Processor]/cpu: decode (T steps)", \
     "split.dat" index 6 using 1:2:4:5:(435.383):2 with boxxyerror fs solid 1.0 border lc rgb "#404040" fc rgb "#ff7f0e" title "vulkan @ vm [Intel(R) Xeon(R) Processor]/NVIDIA H200: prefill", \
     "split.dat" index 6 using 1:3:4:5:2:3 with boxxyerror fs solid 1.0 border lc rgb "#404040" fc rgb "#ffd4ae" title "vulkan @ vm [Intel(R) Xeon(R) Processor]/NVIDIA H200: decode (T steps)"
set output
}
