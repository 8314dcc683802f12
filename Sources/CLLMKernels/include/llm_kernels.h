#ifndef LLM_KERNELS_H
#define LLM_KERNELS_H
#include <stdint.h>

/* Row dots of block-quantised matrices (blocks of 32 weights, w = d*q + m), AVX2+FMA, for LabLLM's decode
   steps. Compiled for AVX2 with a function attribute and called only when llm_has_avx2() is true.
   q4: 16 bytes per block, byte j = q_j | q_{j+16} << 4.   q8: 32 int8 per block.
   y[r] = sum over blocks b of d[r,b] * (sum_j q[r,b,j] x[32b+j]) + m[r,b] * xsum[b],  r in [row_begin, row_end). */
int llm_has_avx2(void);
void llm_q4_rows(const uint8_t *codes, const float *scales, const float *offsets, const float *x, const float *xsum,
                 int blocks, int row_begin, int row_end, float *y, float beta);
void llm_q8_rows(const int8_t *codes, const float *scales, const float *x,
                 int blocks, int row_begin, int row_end, float *y, float beta);
#endif
