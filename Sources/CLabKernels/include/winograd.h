#ifndef LAB_WINOGRAD_H
#define LAB_WINOGRAD_H
#include <stddef.h>

/* The transforms of Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray 2015, arXiv 1509.09308) for a 3×3,
   stride-1 convolution with zero padding `pad`, and their adjoints for the backward:

       Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A      per 2×2 output tile Y, its 4×4 input tile d, a 3×3 kernel g

       Bᵀ = | 1  0 −1  0 |     G = | 1    0    0  |     Aᵀ = | 1  1  1  0 |
            | 0  1  1  0 |         | ½    ½    ½  |          | 0  1 −1 −1 |
            | 0 −1  1  0 |         | ½   −½    ½  |
            | 0  1  0 −1 |         | 0    0    1  |

   Planes: an input plane is H×W, an output plane Ho×Wo with Ho = H + 2·pad − 2, Wo = W + 2·pad − 2, covered by
   th×tw tiles, th = ⌈Ho/2⌉, tw = ⌈Wo/2⌉; tile (ty, tx) reads input rows 2ty − pad ... 2ty − pad + 3 (0 outside)
   and writes output rows 2ty, 2ty + 1 (those < Ho). A chunk of s samples has T = s·th·tw tiles, tile
   t = b·th·tw + ty·tw + tx. Transformed arrays hold 16 matrices, one per position ξ = 4i + j of the 4×4
   tile: V [16, C, T] (inputs), U [16, F, C] (kernels), M [16, F, T] (products, M_ξ = U_ξ · V_ξ).

   The transformed arrays that a function reads (V, dV, M) need 8 floats of slack past their end: the loops run
   over 8 tiles at a time and the last group of a tile row may read past it (those lanes are discarded).

   Each function handles the planes q in [planeBegin, planeEnd) of a chunk (q = b·channels + c), so callers
   split the work over threads by planes; every multiply and add is a separate IEEE operation in a fixed
   order (no FMA contraction), so results do not depend on the CPU's vector width. */

/* V[ξ, c, t] = (Bᵀ d B)[ξ] for the input chunk x [s, C, H, W]. */
void lab_winograd_input_2x3(const float *x, ptrdiff_t channels, ptrdiff_t height, ptrdiff_t width, ptrdiff_t pad,
                            ptrdiff_t planeBegin, ptrdiff_t planeEnd, ptrdiff_t tiles, float *v);

/* The adjoint of lab_winograd_input_2x3: dx[b, c, ·, ·] += Σ over tiles of (B dV Bᵀ) at the tile's input
   window (the parts in the padding are dropped). */
void lab_winograd_input_adjoint_2x3(const float *dv, ptrdiff_t channels, ptrdiff_t height, ptrdiff_t width,
                                    ptrdiff_t pad, ptrdiff_t planeBegin, ptrdiff_t planeEnd, ptrdiff_t tiles,
                                    float *dx);

/* y[b, f, ·, ·] = bias[f] + (Aᵀ M A) of each tile, for the output chunk y [s, F, Ho, Wo]; bias may be NULL.
   Planes q = b·filters + f. */
void lab_winograd_output_2x3(const float *m, ptrdiff_t filters, ptrdiff_t outH, ptrdiff_t outW,
                             ptrdiff_t planeBegin, ptrdiff_t planeEnd, ptrdiff_t tiles, const float *bias, float *y);

/* The adjoint of lab_winograd_output_2x3 (without the bias): dM[ξ, f, t] = (A dY Aᵀ)[ξ] for the output
   gradient chunk dy [s, F, Ho, Wo]. */
void lab_winograd_output_adjoint_2x3(const float *dy, ptrdiff_t filters, ptrdiff_t outH, ptrdiff_t outW,
                                     ptrdiff_t planeBegin, ptrdiff_t planeEnd, ptrdiff_t tiles, float *dm);

/* U[ξ, k] = (G g_k Gᵀ)[ξ] for the `count` = F·C kernels g_k = w[k, 3, 3]. */
void lab_winograd_kernel_2x3(const float *w, ptrdiff_t count, float *u);

/* The adjoint of lab_winograd_kernel_2x3: dw[k, ·, ·] += Gᵀ dU_k G. */
void lab_winograd_kernel_adjoint_2x3(const float *du, ptrdiff_t count, float *dw);
#endif
