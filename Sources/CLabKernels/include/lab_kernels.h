#ifndef LAB_KERNELS_H
#define LAB_KERNELS_H
#include <stddef.h>

/* Elementwise kernels of Lab written with AVX2 intrinsics, for loops whose Swift version the baseline x86-64
   target compiles to 4-wide SSE. Each performs the same IEEE operations, in the same order, as Lab's Swift
   reference loop (no FMA contraction: this file is compiled with FP_CONTRACT off), so its results are
   bit-identical to that loop on every CPU: the choice between them is one of speed only.

   lab_has_avx2() says whether the AVX2 kernels may be called (AVX2 and FMA present). */
int lab_has_avx2(void);

/* Exact GELU over n elements: y[i] = 0.5·x·(1 + erf(x/√2)) with Lab's fastErf / fastExp, and, when slope is not
   NULL, slope[i] = dy/dx = Φ(x) + x·φ(x) with Φ(x) = 0.5·(1 + erf(x/√2)), φ(x) = e^(−x²/2)/√(2π), written as
   Lab's Swift `gelu()` and its backward write them. */
void lab_gelu_avx2(const float *x, float *y, float *slope, ptrdiff_t n);
#endif
