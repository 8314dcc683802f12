#ifndef LLM_KERNELS_H
#define LLM_KERNELS_H
#include <stdint.h>

/* Matrix-vector products y = W x (+ beta y) of block-quantised matrices (blocks of 32 weights, w = d*q + m) for
   LabLLM's one-token decode steps, with the codes widened to Float32 in registers.

   Layout ("row-interleaved"): rows in groups of 16 (the last group padded with zero rows), then blocks of 32
   columns; one group-block is a contiguous record, so a matrix is read as one sequential stream:
     q4: fp16 d[16], fp16 m[16], then 16 x 16 bytes: byte (j, r) = q[r][j] | q[r][j+16] << 4      (320 bytes)
     q8: fp16 d[16], then 32 x 16 int8: (j, r) = q[r][j]                                          (544 bytes)
   Lane r of a 16-float vector is row 16g + r, so a block costs no horizontal sums:
     y[r] = sum_b d[r,b] * (sum_j q[r,b,j] x[32b+j]) + m[r,b] * xsum[b],   xsum[b] = sum_j x[32b+j].

   level 2: AVX-512F (+F16C), level 1: AVX2+FMA+F16C, compiled with function attributes; llm_simd_level() says
   which to run (0: neither, call nothing here; 2 only with LAB_KERNELS=native, see llm_kernels.c) and `level` must not exceed it. Groups
   [group_begin, group_end) are computed; rows at or past `rows` are not stored. */
int llm_simd_level(void);
void llm_q4_groups(int level, const uint8_t *data, const float *x, const float *xsum, int blocks,
                   int group_begin, int group_end, int rows, float *y, float beta);
void llm_q8_groups(int level, const uint8_t *data, const float *x, int blocks,
                   int group_begin, int group_end, int rows, float *y, float beta);
#endif
