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

/* SiLU over n elements, as Lab's Swift loops write it, with σ(x) = 1/(1 + fastExp(−x)):
   y[i] = x·σ(x), times u[i] when u is not NULL (SwiGLU: SiLU(gate) ⊙ up); and its backward
   dx[i] = g·(σ·(1 + x·(1 − σ))). y may be x (in place); dx may be x or g. */
void lab_silu_avx2(const float *x, const float *u, float *y, ptrdiff_t n);
void lab_silu_backward_avx2(const float *x, const float *g, float *dx, ptrdiff_t n);

/* Softmax of x[0..<n] in place, as Lab's attention row (attentionSoftmaxRow without padding) computes it with
   RowKernels: m = max (16-lane accumulators), x[i] = fastExp(x[i] − m), total = Σ x (16-lane accumulators),
   x[i] *= 1/total. Returns m; when m is −∞ (n = 0 or every entry −∞) x is left untouched. */
float lab_softmax_avx2(float *x, ptrdiff_t n);

/* Softmax of scale·x over x[0..<n] in place, then x[n..<width] = 0, as LabLLM's `softmaxRow` computes it:
   m = max (one by one, Swift's max), x[i] = fastExp((x[i] − m)·scale) (8 lanes at a time), total = Σ x[i] in
   index order (one by one), x[i] *= 1/total. The same bits as that Swift loop. */
void lab_softmax_scaled_avx2(float *x, ptrdiff_t n, ptrdiff_t width, float scale);

/* One Adam / AdamW step over n parameters, as Lab's `Adam.update` loop writes it, element by element:
   gi = g + l2·w;  m = beta1·m + oneMinusBeta1·gi;  v = beta2·v + (oneMinusBeta2·gi)·gi;
   w = shrink·w − (step·m) / (√(v·c2) + epsilon). w, g, m, v must not overlap. */
void lab_adam_avx2(float *w, const float *g, float *m, float *v, ptrdiff_t n, float l2, float beta1, float oneMinusBeta1,
                   float beta2, float oneMinusBeta2, float c2, float shrink, float step, float epsilon);

/* im2col of one input plane (height × width) for a convolution with column stride 1: for each kernel offset
   (i, j), the row cols[(i·kernelW + j)·rowStride + oy·outW + ox] = plane[oy·strideH − padH + i, ox − padW + j]
   (0 outside the plane), as Lab's `im2col` writes it. Only copies and zeros. */
void lab_im2col_plane_stride1(const float *plane, ptrdiff_t height, ptrdiff_t width, ptrdiff_t kernelH,
                              ptrdiff_t kernelW, ptrdiff_t strideH, ptrdiff_t padH, ptrdiff_t padW, ptrdiff_t outH,
                              ptrdiff_t outW, ptrdiff_t rowStride, float *cols);

/* The adjoint, as Lab's `col2im`: plane[oy·strideH − padH + i, ox − padW + j] += cols[...] in the order
   i, j, oy (each element of the plane receives its additions in the Swift loop's order). */
void lab_col2im_plane_stride1(const float *cols, ptrdiff_t height, ptrdiff_t width, ptrdiff_t kernelH,
                              ptrdiff_t kernelW, ptrdiff_t strideH, ptrdiff_t padH, ptrdiff_t padW, ptrdiff_t outH,
                              ptrdiff_t outW, ptrdiff_t rowStride, float *plane);
#endif
