#ifndef LLM_KERNELS_H
#define LLM_KERNELS_H
#include <stdint.h>

/* Matrix-vector products y = W x (+ beta y) of block-quantised matrices (blocks of 32 weights, w = d*q + m) for
   LabLLM's one-token decode steps, with the codes widened to Float32 in registers.

   Layout ("row-interleaved"): rows in groups of 16 (the last group padded with zero rows), then blocks of 32
   columns; one group-block is a contiguous record, so a matrix is read as one sequential stream:
     q4: fp16 d[16], fp16 m[16], then 16 x 16 bytes: byte (j, r) = q[r][j] | q[r][j+16] << 4      (320 bytes)
         Q4_0 stores no m (its m = -8 d is computed where needed, exactly): fp16 d[16], then the codes   (288 bytes)
     q8: fp16 d[16], then 32 x 16 int8: (j, r) = q[r][j]                                          (544 bytes)
   Lane r of a 16-float vector is row 16g + r, so a block costs no horizontal sums:
     y[r] = sum_b d[r,b] * (sum_j q[r,b,j] x[32b+j]) + m[r,b] * xsum[b],   xsum[b] = sum_j x[32b+j].

   level 2: AVX-512F (+F16C), level 1: AVX2+FMA+F16C, level 3: AVX-512F running level 1's operations in level 1's
   order (the same bits, half the instructions), compiled with function attributes; llm_simd_level() says which of
   0, 1, 2 to run (0: neither, call nothing here; 2 only with LAB_KERNELS=native, see llm_kernels.c) and `level` must not
   exceed it; llm_decode_level() is the level for llm_q4_groups / llm_q8_groups: 3 where llm_simd_level() is 1 and the
   CPU has AVX-512F, else llm_simd_level(). Groups [group_begin, group_end) are computed; rows at or past `rows` are not
   stored. */
int llm_simd_level(void);
int llm_decode_level(void);
/* offset: 1 for Q4_0 records (m = -8 d), 0 for Q4_1's. */
void llm_q4_groups(int level, int offset, const uint8_t *data, const float *x, const float *xsum, int blocks,
                   int group_begin, int group_end, int rows, float *y, float beta);
void llm_q8_groups(int level, const uint8_t *data, const float *x, int blocks,
                   int group_begin, int group_end, int rows, float *y, float beta);

/* Dequantises groups [group_begin, group_end) into a transposed panel: out[k * ldo + 16 * (g - group_begin) + r] is
   the weight of row 16g + r at column k (k < 32 * blocks), computed exactly as LabLLM's Dequantize.row does (one
   multiply then one add, not fused), so every path gives the same floats. kind 0: w = d*q + m (Q4_1);
   1: w = d*(q - 8) (Q4_0, from the record's d only); 2: w = d*q (Q8_0). Padding rows of the last group are
   written too (zero codes). level must be >= 1 (AVX2); QuantizedMatrix has the portable Swift loop. */
void llm_dequantize_groups_t(int level, int kind, const uint8_t *data, int blocks, int group_begin, int group_end,
                             float *out, int ldo);

/* Int8 activations (llama.cpp's Q8_0 scheme, for LabLLM's `.int8` activation precision). Each row of x is quantised
   per block of 32: d = max|x| / 127, q = lrintf(x / d) (x * (1/d), ties to even), also sum(q) and d * sum(q).
   x: [tokens, columns] (row stride ldx) -> xq: [tokens, columns], xd, xs, xds: [tokens, columns / 32]. level 3 (see
   llm_int8_level) runs AVX-512, 2 AVX2, any other the C loop: identical results. */
void llm_quantize_rows_q8(int level, const float *x, int ldx, int tokens, int columns, int8_t *xq, float *xd, int32_t *xs, float *xds);

/* Two int8 planes (for `.int8x2`, 16 bits per activation): per block of 32, d = max|x| / 32639 (127 * 257),
   a = lrintf(x / d) clamped to +-32639, stored exactly as a = 256 xh + xl (xh in [-127, 127], xl in [-128, 127]);
   xs = sum(a), xds = d * xs. level 3 runs AVX-512, any other the C loop: identical results. */
void llm_quantize_rows_q8x2(int level, const float *x, int ldx, int tokens, int columns, int8_t *xh, int8_t *xl, float *xd,
                            int32_t *xs, float *xds);

/* 3 when the CPU has AVX-512 F/BW/VNNI/VBMI (the int8 kernel's fastest path), else 2 with AVX2, FMA and F16C
   (pmaddubsw), else 0 (the C reference). The integer dot
   products are exact and the Float32 steps are the same operations in the same order on both paths, so both give
   identical floats on any CPU: this choice does not depend on LAB_KERNELS. */
int llm_int8_level(void);

/* Y[t, 16g + r] = sum_b dw[r,b] * xd[t,b] * (sum_j q[r,b,j] * a[t,32b+j] - 8 * xs[t,b] if offset (Q4_0))
                   (+ mw[r,b] * xds[t,b] for Q4_1), summed over b in order into a Float32 accumulator, (+ beta * Y);
   groups [group_begin, group_end) of a q4 matrix in the layout above, `tokens` rows of x, Y row stride ldy.
   a = xq with one plane (xl NULL), a = 256 xq + xl with two (llm_quantize_rows_q8x2; the integer dot is the same
   exact integer either way it is computed). Two planes run AVX-512 VNNI at level 3, AVX2 at level 2 (q4: the unpacked
   panel kernel for any token count up to 64 blocks; q8: int16 madd), else the C loop. */
void llm_q4_int8_groups(int level, int offset, const uint8_t *data, int blocks, int group_begin, int group_end, int rows,
                        const int8_t *xq, const int8_t *xl, const float *xd, const int32_t *xs, const float *xds,
                        int tokens, float *y, int ldy, float beta);

/* The same for a q8 matrix (Q8_0): Y[t, 16g + r] = sum_b dw[r,b] * xd[t,b] * (sum_j w[r,b,j] * xq[t,32b+j]) (+ beta Y). */
void llm_q8_int8_groups(int level, const uint8_t *data, int blocks, int group_begin, int group_end, int rows,
                        const int8_t *xq, const int8_t *xl, const float *xd, const int32_t *xs, int tokens, float *y,
                        int ldy, float beta);

/* Repacks groups [group_begin, group_end) of a matrix into the layout above (padding rows of the last group
   zeroed). type 0: Q4_1 (20-byte blocks), 1: Q4_0 (18), 2: Q8_0 (34); sources[r] is row r's first block, `rows`
   rows. Returns 1 (the output then incomplete) when a scale or offset is not a finite fp16, else 0. Needs AVX2 +
   F16C (llm_simd_level() >= 1). */
int llm_repack_groups(int type, const uint8_t *const *sources, int rows, int blocks, int group_begin, int group_end, uint8_t *out);

/* Decode-step attention of the int8 runtime, one query head: scores[k] = q . key_k (dim a multiple of 8), and
   out = sum_k p[k] value_k. level >= 1 runs AVX2, 0 plain C with the same operations in the same order. */
void llm_attention_dots(int level, const float *q, const float *keys, int stride, int count, int dim, float *scores);
void llm_attention_weighted_sum(int level, const float *p, const float *values, int stride, int count, int dim, float *out);

/* Index of the largest of x[0..<n] (n >= 1): the plain scan's answer, best = 0 and best = i whenever
   x[i] > x[best], so the first index on ties and NaN never wins (a NaN x[0] stays the answer). The AVX2 path
   compares 8 entries at a time with the best so far and scans only a block that holds a larger one. */
long llm_argmax(int level, const float *x, long n);
/* Float32 products with a dequantised panel (LabLLM's prefill with Float32 activations):
   Y[t, 32s + o] = sum_k X[t, k] * P_s[k, o] (+ beta * Y), t < tokens, 32s + o < outputs, where the panel is `strips`
   strips of 32 outputs, strip s at panel + s * K * 32 laid out [K][32] (llm_dequantize_groups_t with ldo 32 writes two
   groups of rows as one strip). Each output is one chain of fused multiply-adds over k = 0..K-1 from 0, then beta * Y
   rounded and added (as store_group): level 2 (AVX-512F), 1 (AVX2+FMA) and 0 (C, fmaf) give identical floats, so
   llm_gemm_level(), the fastest this CPU runs, is the default on every CPU. X row stride ldx, Y row stride ldy. */
enum { LLM_GEMM_STRIP = 32 };
int llm_gemm_level(void);
void llm_gemm_panel(int level, const float *x, int ldx, int tokens, int K, const float *panel, int strips, int outputs,
                    float *y, int ldy, float beta);
/* Packs B [K, N] (row stride ldb; with trans, B is given transposed: element (k, n) at b[n * ldb + k]) as the
   ceil(N / 32) strips llm_gemm_panel reads, the columns past N zero. */
void llm_pack_strips(const float *b, int ldb, int trans, int K, int N, float *panel);
#endif
