#include "llm_kernels.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

enum { Q4_RECORD = 320, Q4_0_RECORD = 288, Q8_RECORD = 544 };
/* A q4 record's size and where its codes start: Q4_1 holds d[16], m[16], codes; Q4_0 only d[16], codes (its
   offset is m = -8 d, computed where it is needed: exact, a power-of-two scale). q4_0 is the `offset` flag. */
#define Q4_BYTES(q4_0) ((q4_0) ? Q4_0_RECORD : Q4_RECORD)
#define Q4_CODES(q4_0) ((q4_0) ? 32 : 64)

/* A decode step streams ~100 MB of weights that no cache holds; the hardware prefetcher alone leaves the loads
   waiting on memory, so each record's cache lines are prefetched this many bytes ahead (measured: 1.5x). */
enum { PREFETCH_AHEAD = 8192 };

static inline void prefetch_record(const uint8_t *record, int bytes) {
    for (int k = 0; k < bytes; k += 64) _mm_prefetch((const char *)record + PREFETCH_AHEAD + k, _MM_HINT_T0);
}

/* The AVX-512 path with its own summation order is taken only with LAB_KERNELS=native: by default (portable kernels,
   see Lab's Parallel.KernelChoice) every CPU with AVX2 runs the AVX2 kernels' arithmetic (on AVX-512F CPUs 16 lanes
   at a time, llm_decode_level 3: the same bits), so results do not depend on the CPU family. */
int llm_simd_level(void) {
    __builtin_cpu_init();
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    const char *choice = getenv("LAB_KERNELS");
    int native = choice != NULL && strcmp(choice, "native") == 0;
    if (avx2 && native && __builtin_cpu_supports("avx512f")) return 2;
    return avx2 ? 1 : 0;
}

int llm_decode_level(void) {
    int level = llm_simd_level();
    return level == 1 && __builtin_cpu_supports("avx512f") ? 3 : level;
}

/* Stores the 16 sums of a group (lanes past `valid` dropped): y = dot (+ beta y), beta y rounded and then added,
   never fused (as the Swift loops and the C reference, which has no FMA, compute it; inlined into an FMA target the
   expression would otherwise be contracted, and a beta other than 0 or 1 would give other bits). */
static inline void store_group(float *y, const float *dot, int valid, float beta) {
#pragma clang fp contract(off)
    for (int r = 0; r < valid; r++) y[r] = beta == 0 ? dot[r] : dot[r] + beta * y[r];
}

/* ---------------------------------------------------------------- AVX-512F: one group = one vector */

__attribute__((target("avx512f,f16c")))
static void q4_groups_avx512(int offset, const uint8_t *data, const float *x, const float *xsum, int blocks,
                             int group_begin, int group_end, int rows, float *y, float beta) {
    const __m512i low = _mm512_set1_epi32(0x0F);
    for (int g = group_begin; g < group_end; g++) {
        const uint8_t *record = data + (long)g * blocks * Q4_BYTES(offset);
        __m512 acc = _mm512_setzero_ps();
        for (int b = 0; b < blocks; b++, record += Q4_BYTES(offset)) {
            prefetch_record(record, Q4_BYTES(offset));
            const float *xb = x + 32 * b;
            const uint8_t *codes = record + Q4_CODES(offset);
            /* Four chains of FMAs (even/odd j, low/high nibble) keep the latency hidden. */
            __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
            for (int j = 0; j < 16; j += 2) {
                __m512i c0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(codes + 16 * j)));
                __m512i c1 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(codes + 16 * j + 16)));
                s0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_and_si512(c0, low)), _mm512_set1_ps(xb[j]), s0);
                s1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(c0, 4)), _mm512_set1_ps(xb[j + 16]), s1);
                s2 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_and_si512(c1, low)), _mm512_set1_ps(xb[j + 1]), s2);
                s3 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(c1, 4)), _mm512_set1_ps(xb[j + 17]), s3);
            }
            __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)record));
            __m512 m = offset ? _mm512_mul_ps(d, _mm512_set1_ps(-8.0f)) : _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(record + 32)));
            acc = _mm512_fmadd_ps(_mm512_add_ps(_mm512_add_ps(s0, s2), _mm512_add_ps(s1, s3)), d, acc);
            acc = _mm512_fmadd_ps(m, _mm512_set1_ps(xsum[b]), acc);
        }
        float dot[16];
        _mm512_storeu_ps(dot, acc);
        int valid = rows - 16 * g < 16 ? rows - 16 * g : 16;
        store_group(y + 16 * g, dot, valid, beta);
    }
}

__attribute__((target("avx512f,f16c")))
static void q8_groups_avx512(const uint8_t *data, const float *x, int blocks,
                             int group_begin, int group_end, int rows, float *y, float beta) {
    for (int g = group_begin; g < group_end; g++) {
        const uint8_t *record = data + (long)g * blocks * Q8_RECORD;
        __m512 acc = _mm512_setzero_ps();
        for (int b = 0; b < blocks; b++, record += Q8_RECORD) {
            prefetch_record(record, Q8_RECORD);
            const float *xb = x + 32 * b;
            const uint8_t *codes = record + 32;
            __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
            for (int j = 0; j < 32; j += 4) {
                s0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(codes + 16 * j)))),
                                     _mm512_set1_ps(xb[j]), s0);
                s1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(codes + 16 * j + 16)))),
                                     _mm512_set1_ps(xb[j + 1]), s1);
                s2 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(codes + 16 * j + 32)))),
                                     _mm512_set1_ps(xb[j + 2]), s2);
                s3 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(codes + 16 * j + 48)))),
                                     _mm512_set1_ps(xb[j + 3]), s3);
            }
            __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)record));
            acc = _mm512_fmadd_ps(_mm512_add_ps(_mm512_add_ps(s0, s2), _mm512_add_ps(s1, s3)), d, acc);
        }
        float dot[16];
        _mm512_storeu_ps(dot, acc);
        int valid = rows - 16 * g < 16 ? rows - 16 * g : 16;
        store_group(y + 16 * g, dot, valid, beta);
    }
}

/* ---------------------------------------------------------------- AVX2: a group = two 8-lane halves */

/* Each block's per-lane sums are chains of 16 dependent FMAs (4 per block), which alone leave the FMA units
   waiting on latency; the loops below run two blocks' chains side by side (8 in flight) and then add the two
   blocks into the group's accumulators in block order, so every lane sees the same operations in the same
   order as one block at a time. */

/* s[half][0] += lo nibbles * x[j], s[half][1] += hi nibbles * x[j + 16], j = 0..15: one block of a q4 record. */
__attribute__((target("avx2,fma,f16c")))
static inline void q4_block_sums_avx2(const uint8_t *codes, const float *xb, int j, __m256 s[2][2]) {
    const __m256i low = _mm256_set1_epi32(0x0F);
    __m256 xl = _mm256_set1_ps(xb[j]), xh = _mm256_set1_ps(xb[j + 16]);
    for (int half = 0; half < 2; half++) {
        __m256i c = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(codes + 16 * j + 8 * half)));
        s[half][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(c, low)), xl, s[half][0]);
        s[half][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(c, 4)), xh, s[half][1]);
    }
}

/* acc[half] += d * (s_lo + s_hi) (+ m * xsum): one block's sums into the group's accumulators. */
__attribute__((target("avx2,fma,f16c")))
static inline void q4_block_add_avx2(int offset, const uint8_t *record, float xsum, __m256 s[2][2], __m256 acc[2]) {
    for (int half = 0; half < 2; half++) {
        __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(record + 16 * half)));
        __m256 m = offset ? _mm256_mul_ps(d, _mm256_set1_ps(-8.0f)) : _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(record + 32 + 16 * half)));
        acc[half] = _mm256_fmadd_ps(_mm256_add_ps(s[half][0], s[half][1]), d, acc[half]);
        acc[half] = _mm256_fmadd_ps(m, _mm256_set1_ps(xsum), acc[half]);
    }
}

__attribute__((target("avx2,fma,f16c")))
static void q4_groups_avx2(int offset, const uint8_t *data, const float *x, const float *xsum, int blocks,
                           int group_begin, int group_end, int rows, float *y, float beta) {
    for (int g = group_begin; g < group_end; g++) {
        const int bytes = Q4_BYTES(offset), codes = Q4_CODES(offset);
        const uint8_t *record = data + (long)g * blocks * bytes;
        __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
        int b = 0;
        for (; b + 2 <= blocks; b += 2, record += 2 * bytes) {
            prefetch_record(record, 2 * bytes);
            __m256 s0[2][2], s1[2][2];
            for (int i = 0; i < 4; i++) s0[i / 2][i % 2] = s1[i / 2][i % 2] = _mm256_setzero_ps();
            for (int j = 0; j < 16; j++) {
                q4_block_sums_avx2(record + codes, x + 32 * b, j, s0);
                q4_block_sums_avx2(record + bytes + codes, x + 32 * (b + 1), j, s1);
            }
            q4_block_add_avx2(offset, record, xsum[b], s0, acc);
            q4_block_add_avx2(offset, record + bytes, xsum[b + 1], s1, acc);
        }
        if (b < blocks) {
            prefetch_record(record, bytes);
            __m256 s0[2][2];
            for (int i = 0; i < 4; i++) s0[i / 2][i % 2] = _mm256_setzero_ps();
            for (int j = 0; j < 16; j++) q4_block_sums_avx2(record + codes, x + 32 * b, j, s0);
            q4_block_add_avx2(offset, record, xsum[b], s0, acc);
        }
        float dot[16];
        _mm256_storeu_ps(dot, acc[0]);
        _mm256_storeu_ps(dot + 8, acc[1]);
        int valid = rows - 16 * g < 16 ? rows - 16 * g : 16;
        store_group(y + 16 * g, dot, valid, beta);
    }
}

/* s[half][0] += q[j] * x[j], s[half][1] += q[j + 1] * x[j + 1], j = 0, 2, ..., 30: one block of a q8 record. */
__attribute__((target("avx2,fma,f16c")))
static inline void q8_block_sums_avx2(const uint8_t *codes, const float *xb, int j, __m256 s[2][2]) {
    __m256 x0 = _mm256_set1_ps(xb[j]), x1 = _mm256_set1_ps(xb[j + 1]);
    for (int half = 0; half < 2; half++) {
        __m256i c0 = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(codes + 16 * j + 8 * half)));
        __m256i c1 = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(codes + 16 * j + 16 + 8 * half)));
        s[half][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(c0), x0, s[half][0]);
        s[half][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(c1), x1, s[half][1]);
    }
}

__attribute__((target("avx2,fma,f16c")))
static inline void q8_block_add_avx2(const uint8_t *record, __m256 s[2][2], __m256 acc[2]) {
    for (int half = 0; half < 2; half++) {
        __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(record + 16 * half)));
        acc[half] = _mm256_fmadd_ps(_mm256_add_ps(s[half][0], s[half][1]), d, acc[half]);
    }
}

__attribute__((target("avx2,fma,f16c")))
static void q8_groups_avx2(const uint8_t *data, const float *x, int blocks,
                           int group_begin, int group_end, int rows, float *y, float beta) {
    for (int g = group_begin; g < group_end; g++) {
        const uint8_t *record = data + (long)g * blocks * Q8_RECORD;
        __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
        int b = 0;
        for (; b + 2 <= blocks; b += 2, record += 2 * Q8_RECORD) {
            prefetch_record(record, 2 * Q8_RECORD);
            __m256 s0[2][2], s1[2][2];
            for (int i = 0; i < 4; i++) s0[i / 2][i % 2] = s1[i / 2][i % 2] = _mm256_setzero_ps();
            for (int j = 0; j < 32; j += 2) {
                q8_block_sums_avx2(record + 32, x + 32 * b, j, s0);
                q8_block_sums_avx2(record + Q8_RECORD + 32, x + 32 * (b + 1), j, s1);
            }
            q8_block_add_avx2(record, s0, acc);
            q8_block_add_avx2(record + Q8_RECORD, s1, acc);
        }
        if (b < blocks) {
            prefetch_record(record, Q8_RECORD);
            __m256 s0[2][2];
            for (int i = 0; i < 4; i++) s0[i / 2][i % 2] = _mm256_setzero_ps();
            for (int j = 0; j < 32; j += 2) q8_block_sums_avx2(record + 32, x + 32 * b, j, s0);
            q8_block_add_avx2(record, s0, acc);
        }
        float dot[16];
        _mm256_storeu_ps(dot, acc[0]);
        _mm256_storeu_ps(dot + 8, acc[1]);
        int valid = rows - 16 * g < 16 ? rows - 16 * g : 16;
        store_group(y + 16 * g, dot, valid, beta);
    }
}

/* ---------------------------------------------------------------- AVX-512F in the AVX2 kernels' order (level 3)

   Lane r of one 16-lane vector runs what lane r % 8 of half r / 8 runs in the AVX2 kernels above, the same
   operations in the same order, so the results are the AVX2 kernels' bits (the default, portable path takes this
   one wherever the CPU has AVX-512F: half the instructions). Four blocks' chains run side by side (8 in flight) and
   are added into the group's accumulator in block order, as the AVX2 loops add their two. */
enum { WIDE_BLOCKS = 4 };

/* Step j of one block's two sums, as q4_block_sums_avx2 / q8_block_sums_avx2 do it per half: kind 0 (Q4_1) or 1
   (Q4_0): s0 += low nibbles * x[j], s1 += high nibbles * x[j + 16], j = 0..15; kind 2 (Q8_0): s0 += codes j * x[j],
   s1 += codes j+1 * x[j + 1], j = 0, 2, ..., 30. */
__attribute__((target("avx512f,f16c"), always_inline))
static inline void block_sums_wide(const int kind, const uint8_t *record, const float *xb, int j, __m512 s[2]) {
    if (kind == 2) {
        const uint8_t *codes = record + 32;
        __m512i c0 = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(codes + 16 * j)));
        __m512i c1 = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(codes + 16 * j + 16)));
        s[0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(c0), _mm512_set1_ps(xb[j]), s[0]);
        s[1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(c1), _mm512_set1_ps(xb[j + 1]), s[1]);
    } else {
        const __m512i low = _mm512_set1_epi32(0x0F);
        __m512i c = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(record + Q4_CODES(kind == 1) + 16 * j)));
        s[0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_and_si512(c, low)), _mm512_set1_ps(xb[j]), s[0]);
        s[1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(c, 4)), _mm512_set1_ps(xb[j + 16]), s[1]);
    }
}

/* acc += d * (s0 + s1), and for Q4 then acc += m * xsum: one block into the group's accumulator, as
   q4_block_add_avx2 / q8_block_add_avx2. */
__attribute__((target("avx512f,f16c"), always_inline))
static inline __m512 block_add_wide(const int kind, const uint8_t *record, float xsum, const __m512 s[2], __m512 acc) {
    __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)record));
    acc = _mm512_fmadd_ps(_mm512_add_ps(s[0], s[1]), d, acc);
    if (kind == 2) return acc;
    __m512 m = kind == 1 ? _mm512_mul_ps(d, _mm512_set1_ps(-8.0f)) : _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(record + 32)));
    return _mm512_fmadd_ps(m, _mm512_set1_ps(xsum), acc);
}

__attribute__((target("avx512f,f16c"), always_inline))
static inline void groups_wide_kind(const int kind, const uint8_t *data, const float *x, const float *xsum, int blocks,
                                    int group_begin, int group_end, int rows, float *y, float beta) {
    const int bytes = kind == 2 ? Q8_RECORD : Q4_BYTES(kind == 1), steps = kind == 2 ? 32 : 16, step = kind == 2 ? 2 : 1;
    for (int g = group_begin; g < group_end; g++) {
        const uint8_t *record = data + (long)g * blocks * bytes;
        __m512 acc = _mm512_setzero_ps();
        int b = 0;
        for (; b + WIDE_BLOCKS <= blocks; b += WIDE_BLOCKS, record += WIDE_BLOCKS * bytes) {
            prefetch_record(record, WIDE_BLOCKS * bytes);
            __m512 s[WIDE_BLOCKS][2];
            for (int k = 0; k < WIDE_BLOCKS; k++) s[k][0] = s[k][1] = _mm512_setzero_ps();
            for (int j = 0; j < steps; j += step)
                for (int k = 0; k < WIDE_BLOCKS; k++) block_sums_wide(kind, record + k * bytes, x + 32 * (b + k), j, s[k]);
            for (int k = 0; k < WIDE_BLOCKS; k++)
                acc = block_add_wide(kind, record + k * bytes, kind == 2 ? 0 : xsum[b + k], s[k], acc);
        }
        for (; b < blocks; b++, record += bytes) {
            prefetch_record(record, bytes);
            __m512 s[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
            for (int j = 0; j < steps; j += step) block_sums_wide(kind, record, x + 32 * b, j, s);
            acc = block_add_wide(kind, record, kind == 2 ? 0 : xsum[b], s, acc);
        }
        float dot[16];
        _mm512_storeu_ps(dot, acc);
        int valid = rows - 16 * g < 16 ? rows - 16 * g : 16;
        store_group(y + 16 * g, dot, valid, beta);
    }
}

/* The three record layouts (kind 0 Q4_1, 1 Q4_0, 2 Q8_0, whose xsum is not read), each compiled with its kind a constant. */
__attribute__((target("avx512f,f16c")))
static void groups_wide(int kind, const uint8_t *data, const float *x, const float *xsum, int blocks,
                        int group_begin, int group_end, int rows, float *y, float beta) {
    if (kind == 0) groups_wide_kind(0, data, x, xsum, blocks, group_begin, group_end, rows, y, beta);
    else if (kind == 1) groups_wide_kind(1, data, x, xsum, blocks, group_begin, group_end, rows, y, beta);
    else groups_wide_kind(2, data, x, xsum, blocks, group_begin, group_end, rows, y, beta);
}

/* ---------------------------------------------------------------- entry points */

void llm_q4_groups(int level, int offset, const uint8_t *data, const float *x, const float *xsum, int blocks,
                   int group_begin, int group_end, int rows, float *y, float beta) {
    if (level == 2) q4_groups_avx512(offset, data, x, xsum, blocks, group_begin, group_end, rows, y, beta);
    else if (level == 3) groups_wide(offset ? 1 : 0, data, x, xsum, blocks, group_begin, group_end, rows, y, beta);
    else q4_groups_avx2(offset, data, x, xsum, blocks, group_begin, group_end, rows, y, beta);
}

void llm_q8_groups(int level, const uint8_t *data, const float *x, int blocks,
                   int group_begin, int group_end, int rows, float *y, float beta) {
    if (level == 2) q8_groups_avx512(data, x, blocks, group_begin, group_end, rows, y, beta);
    else if (level == 3) groups_wide(2, data, x, NULL, blocks, group_begin, group_end, rows, y, beta);
    else q8_groups_avx2(data, x, blocks, group_begin, group_end, rows, y, beta);
}

/* ---------------------------------------------------------------- dequantisation into a transposed panel */

/* The weights are the dequantiser's exactly (LabLLM's Dequantize.row): one multiply, then one add, never fused. */
#pragma clang fp contract(off)

__attribute__((target("avx2,fma,f16c")))
static void dequantize_groups_t_avx2(int kind, const uint8_t *data, int blocks, int g0, int g1, float *out, int ldo) {
    const __m256i low = _mm256_set1_epi32(0x0F), eight = _mm256_set1_epi32(8);
    int bytes = kind == 2 ? Q8_RECORD : Q4_BYTES(kind == 1), codes = kind == 2 ? 32 : Q4_CODES(kind == 1);
    for (int g = g0; g < g1; g++) {
        const uint8_t *record = data + (long)g * blocks * bytes;
        float *column = out + 16 * (g - g0);
        for (int b = 0; b < blocks; b++, record += bytes) {
            __m256 d0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)record));
            __m256 d1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(record + 16)));
            float *o = column + (long)(32 * b) * ldo;
            if (kind == 2) {
                for (int j = 0; j < 32; j++) {
                    __m128i c = _mm_loadu_si128((const __m128i *)(record + 32 + 16 * j));
                    __m256 w0 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(c)), d0);
                    __m256 w1 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(c, 8))), d1);
                    _mm256_storeu_ps(o + (long)j * ldo, w0);
                    _mm256_storeu_ps(o + (long)j * ldo + 8, w1);
                }
                continue;
            }
            __m256 m0 = _mm256_setzero_ps(), m1 = _mm256_setzero_ps();  /* Q4_1's offsets (Q4_0 stores none) */
            if (kind == 0) {
                m0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(record + 32)));
                m1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(record + 48)));
            }
            for (int j = 0; j < 16; j++) {
                __m128i c = _mm_loadu_si128((const __m128i *)(record + codes + 16 * j));
                __m256i c0 = _mm256_cvtepu8_epi32(c), c1 = _mm256_cvtepu8_epi32(_mm_srli_si128(c, 8));
                __m256i l0 = _mm256_and_si256(c0, low), l1 = _mm256_and_si256(c1, low);
                __m256i h0 = _mm256_srli_epi32(c0, 4), h1 = _mm256_srli_epi32(c1, 4);
                __m256 wl0, wl1, wh0, wh1;
                if (kind == 1) {
                    wl0 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(l0, eight)), d0);
                    wl1 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(l1, eight)), d1);
                    wh0 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(h0, eight)), d0);
                    wh1 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(h1, eight)), d1);
                } else {
                    wl0 = _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(l0), d0), m0);
                    wl1 = _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(l1), d1), m1);
                    wh0 = _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(h0), d0), m0);
                    wh1 = _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(h1), d1), m1);
                }
                _mm256_storeu_ps(o + (long)j * ldo, wl0);
                _mm256_storeu_ps(o + (long)j * ldo + 8, wl1);
                _mm256_storeu_ps(o + (long)(j + 16) * ldo, wh0);
                _mm256_storeu_ps(o + (long)(j + 16) * ldo + 8, wh1);
            }
        }
    }
}

void llm_dequantize_groups_t(int level, int kind, const uint8_t *data, int blocks, int group_begin, int group_end,
                             float *out, int ldo) {
    if (level >= 1) dequantize_groups_t_avx2(kind, data, blocks, group_begin, group_end, out, ldo);
}

/* ---------------------------------------------------------------- int8 activations (llama.cpp's Q8_0 scheme) */

/* Two int8 planes (LabLLM's `.int8x2`): d = max|x| / 32639 (32639 = 127 * 256 + 127), a = lrintf(x / d) (x * (1/d),
   ties to even) clamped to +-32639, split exactly as a = 256 h + l with h = floor((a + 128) / 256) in [-127, 127] and
   l in [-128, 127]; xs = sum(a), xds = d * xs. The AVX-512 path runs the same operations 16 lanes at a time: identical
   bytes and floats. */
enum { Q8X2_RANGE = 127 * 257, Q8X2_BIAS = 32768 + 128 };

static inline void split_plane(int a, int8_t *h, int8_t *l) {
    int high = ((a + Q8X2_BIAS) >> 8) - 128;  /* a + Q8X2_BIAS >= 257 > 0: the shift is floor division */
    *h = (int8_t)high;
    *l = (int8_t)(a - 256 * high);
}

/* The C reference of both quantisers: one plane (xl NULL, range 127) or two (range Q8X2_RANGE, xq the high plane). */
static void quantize_rows_scalar(int range, const float *x, int ldx, int tokens, int columns, int8_t *xq, int8_t *xl,
                                 float *xd, int32_t *xs, float *xds) {
    int blocks = columns / 32;
    for (int t = 0; t < tokens; t++) {
        for (int b = 0; b < blocks; b++) {
            const float *v = x + (long)t * ldx + 32 * b;
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = fabsf(v[j]) > amax ? fabsf(v[j]) : amax;
            float d = amax / (float)range, id = d != 0 ? 1.0f / d : 0.0f;
            long at = (long)t * columns + 32 * b;
            int sum = 0;
            for (int j = 0; j < 32; j++) {
                long r = lrintf(v[j] * id);
                r = r > range ? range : r < -range ? -range : r;
                if (xl) split_plane((int)r, xq + at + j, xl + at + j);
                else xq[at + j] = (int8_t)r;
                sum += (int)r;
            }
            xd[(long)t * blocks + b] = d;
            xs[(long)t * blocks + b] = sum;
            xds[(long)t * blocks + b] = d * (float)sum;
        }
    }
}

/* quantize_rows_scalar 16 lanes at a time: max is exact, x * id is one rounding, cvtps rounds to nearest even as
   lrintf does in the default rounding mode, the clamp, the split and the integer sum are exact: identical bytes and
   floats. */
__attribute__((target("avx512f,avx512bw")))
static void quantize_rows_avx512(int range, const float *x, int ldx, int tokens, int columns, int8_t *xq, int8_t *xl,
                                 float *xd, int32_t *xs, float *xds) {
    int blocks = columns / 32;
    const __m512i top = _mm512_set1_epi32(range), bottom = _mm512_set1_epi32(-range);
    const __m512i bias = _mm512_set1_epi32(Q8X2_BIAS), base = _mm512_set1_epi32(128);
    for (int t = 0; t < tokens; t++) {
        for (int b = 0; b < blocks; b++) {
            const float *v = x + (long)t * ldx + 32 * b;
            __m512 v0 = _mm512_loadu_ps(v), v1 = _mm512_loadu_ps(v + 16);
            float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
            float d = amax / (float)range, id = d != 0 ? 1.0f / d : 0.0f;
            __m512 scale = _mm512_set1_ps(id);
            __m512i a[2] = {_mm512_cvtps_epi32(_mm512_mul_ps(v0, scale)), _mm512_cvtps_epi32(_mm512_mul_ps(v1, scale))};
            long at = (long)t * columns + 32 * b;
            __m512i sum = _mm512_setzero_si512();
            for (int k = 0; k < 2; k++) {
                a[k] = _mm512_max_epi32(_mm512_min_epi32(a[k], top), bottom);
                if (xl) {  /* split_plane, 16 lanes */
                    __m512i h = _mm512_sub_epi32(_mm512_srai_epi32(_mm512_add_epi32(a[k], bias), 8), base);
                    _mm_storeu_si128((__m128i *)(xq + at + 16 * k), _mm512_cvtepi32_epi8(h));
                    _mm_storeu_si128((__m128i *)(xl + at + 16 * k), _mm512_cvtepi32_epi8(_mm512_sub_epi32(a[k], _mm512_slli_epi32(h, 8))));
                } else {
                    _mm_storeu_si128((__m128i *)(xq + at + 16 * k), _mm512_cvtepi32_epi8(a[k]));
                }
                sum = _mm512_add_epi32(sum, a[k]);
            }
            int total = _mm512_reduce_add_epi32(sum);
            xd[(long)t * blocks + b] = d;
            xs[(long)t * blocks + b] = total;
            xds[(long)t * blocks + b] = d * (float)total;
        }
    }
}

/* One plane, 8 lanes at a time (AVX2): the steps of quantize_rows_scalar, identical bytes and floats. */
__attribute__((target("avx2,fma")))
static void quantize_rows_q8_avx2(const float *x, int ldx, int tokens, int columns, int8_t *xq, float *xd, int32_t *xs, float *xds) {
    int blocks = columns / 32;
    const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    const __m256i top = _mm256_set1_epi32(127), bottom = _mm256_set1_epi32(-127);
    for (int t = 0; t < tokens; t++) {
        for (int b = 0; b < blocks; b++) {
            const float *v = x + (long)t * ldx + 32 * b;
            __m256 v0 = _mm256_loadu_ps(v), v1 = _mm256_loadu_ps(v + 8), v2 = _mm256_loadu_ps(v + 16), v3 = _mm256_loadu_ps(v + 24);
            __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v0, magnitude), _mm256_and_ps(v1, magnitude)),
                                     _mm256_max_ps(_mm256_and_ps(v2, magnitude), _mm256_and_ps(v3, magnitude)));
            __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
            m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
            m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
            float amax = _mm_cvtss_f32(m4);
            float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
            __m256 scale = _mm256_set1_ps(id);
            __m256i q[4];
            const __m256 vs[4] = {v0, v1, v2, v3};
            __m256i sum = _mm256_setzero_si256();
            for (int k = 0; k < 4; k++) {
                q[k] = _mm256_max_epi32(_mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(vs[k], scale)), top), bottom);
                sum = _mm256_add_epi32(sum, q[k]);
            }
            /* packs work per 128-bit lane: the permute puts the 32 bytes back in order. */
            __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
            bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            _mm256_storeu_si256((__m256i *)(xq + (long)t * columns + 32 * b), bytes);
            __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
            int total = _mm_cvtsi128_si32(s4);
            xd[(long)t * blocks + b] = d;
            xs[(long)t * blocks + b] = total;
            xds[(long)t * blocks + b] = d * (float)total;
        }
    }
}

void llm_quantize_rows_q8(int level, const float *x, int ldx, int tokens, int columns, int8_t *xq, float *xd, int32_t *xs, float *xds) {
    if (level >= 3) quantize_rows_avx512(127, x, ldx, tokens, columns, xq, NULL, xd, xs, xds);
    else if (level == 2) quantize_rows_q8_avx2(x, ldx, tokens, columns, xq, xd, xs, xds);
    else quantize_rows_scalar(127, x, ldx, tokens, columns, xq, NULL, xd, xs, xds);
}

void llm_quantize_rows_q8x2(int level, const float *x, int ldx, int tokens, int columns, int8_t *xh, int8_t *xl, float *xd,
                            int32_t *xs, float *xds) {
    if (level >= 3) quantize_rows_avx512(Q8X2_RANGE, x, ldx, tokens, columns, xh, xl, xd, xs, xds);
    else quantize_rows_scalar(Q8X2_RANGE, x, ldx, tokens, columns, xh, xl, xd, xs, xds);
}

int llm_int8_level(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni")
        && __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("f16c") ? 3
        : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c") ? 2 : 0;
}

/* Half to float without F16C (exact: every fp16 value is a float). */
static inline float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF, bits;
    if (exponent == 0) {
        if (mantissa == 0) bits = sign;
        else {  /* subnormal: normalise */
            int e = -1;
            do { e++; mantissa <<= 1; } while ((mantissa & 0x400) == 0);
            bits = sign | (uint32_t)(127 - 15 - e) << 23 | (mantissa & 0x3FF) << 13;
        }
    } else if (exponent == 31) bits = sign | 0x7F800000 | mantissa << 13;
    else bits = sign | (exponent + 127 - 15) << 23 | mantissa << 13;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* The reference for both code types: the same integer dot products and the same Float32 operations in the same
   order as the AVX-512 VNNI kernels below (fmaf is one rounding, as _mm512_fmadd_ps), so both give identical floats.
   kind 0: Q4_1 (d*q + m), 1: Q4_0 (d*(q - 8)), 2: Q8_0 (d*q). */
static void int8_scalar(int kind, const uint8_t *data, int blocks, int g0, int g1, int rows, const int8_t *xq,
                        const int8_t *xl, const float *xd, const int32_t *xs, const float *xds, int tokens, float *y,
                        int ldy, float beta) {
    int columns = 32 * blocks, record_bytes = kind == 2 ? Q8_RECORD : Q4_BYTES(kind == 1), codes = Q4_CODES(kind == 1);
    for (int g = g0; g < g1; g++) {
        for (int r = 0; r < 16 && 16 * g + r < rows; r++) {
            for (int t = 0; t < tokens; t++) {
                float acc = 0;
                const uint8_t *record = data + (long)g * blocks * record_bytes;
                for (int b = 0; b < blocks; b++, record += record_bytes) {
                    const int8_t *q = xq + (long)t * columns + 32 * b;
                    int a[32];  /* the activations' integers: q, or 256 h + l with two planes */
                    for (int j = 0; j < 32; j++) a[j] = xl ? 256 * q[j] + xl[(long)t * columns + 32 * b + j] : q[j];
                    int dot = 0;
                    if (kind == 2) {
                        for (int j = 0; j < 32; j++) dot += (int8_t)record[32 + 16 * j + r] * a[j];
                    } else {
                        for (int j = 0; j < 16; j++) {
                            int code = record[codes + 16 * j + r];
                            dot += (code & 15) * a[j] + (code >> 4) * a[j + 16];
                        }
                        if (kind == 1) dot -= 8 * xs[(long)t * blocks + b];
                    }
                    float dw = half_to_float(((const uint16_t *)record)[r]);
                    float s = dw * xd[(long)t * blocks + b];
                    acc = fmaf((float)dot, s, acc);
                    if (kind == 0) acc = fmaf(half_to_float(((const uint16_t *)record)[16 + r]), xds[(long)t * blocks + b], acc);
                }
                float *out = y + (long)t * ldy + 16 * g + r;
                *out = beta == 0 ? acc : acc + beta * *out;
            }
        }
    }
}

/* AVX-512 VNNI. One register holds a group's 16 weight rows, one dword per row with its codes of 4 columns (vpermb
   gathers them from the record's 16-byte code rows), so a token's 4 activations enter as one broadcast dword and
   vpdpbusd adds 16 rows' 4-column products into their int32 dots. A tile of T tokens (T a constant: the accumulators
   stay in registers) shares one unpacking of each block's codes. The integer dot starts at the Q4_0 offset term
   (-8 * xs; Q8_0: -128 * xs for its +128 shift), exact in int32; then the Float32 steps of the C reference in its
   order. With two activation planes (P = 2, a = 256 h + l) the dot runs over h from 0, is multiplied by 256, gets the
   offset term and runs on over l: one register per token, the same exact integer (|dot| < 2^31: 256 * 32 * 255 * 127
   plus the rest). Tokens go in blocks of VNNI_TOKEN_BLOCK: every group of the call runs over one block before the next, so the
   outputs and activations being written and read stay in L2 while a group's codes are reread from L1. */
enum { VNNI_TILE = 8, VNNI_TOKEN_BLOCK = 64 };

/* y[t, 16g + r] = acc (+ beta * y) for the valid rows, as store_group (beta * y rounded, then added). */
__attribute__((target("avx512f"), always_inline))
static inline void store_tile_vnni(const int T, const __m512 *acc, float *y, int ldy, int valid, float beta) {
    __mmask16 mask = (__mmask16)((1u << valid) - 1);
#pragma clang loop unroll(full)
    for (int t = 0; t < T; t++) {
        float *out = y + (long)t * ldy;
        __m512 v = acc[t];
        if (beta != 0) v = _mm512_add_ps(v, _mm512_mul_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(mask, out)));
        _mm512_mask_storeu_ps(out, mask, v);
    }
}

__attribute__((target("avx512f,avx512bw,avx512vnni,avx512vbmi,f16c"), always_inline))
static inline void q4_int8_vnni_tile(const int T, const int P, int offset, const uint8_t *base, int blocks, const int8_t *xq,
                                     const int8_t *xl, const float *xd, const int32_t *xs, const float *xds, __m512i gather,
                                     __m512 *acc) {
    const int columns = 32 * blocks;
    const __m512i low = _mm512_set1_epi8(0x0F);
#pragma clang loop unroll(full)
    for (int t = 0; t < T; t++) acc[t] = _mm512_setzero_ps();
    const uint8_t *record = base;
    for (int b = 0; b < blocks; b++, record += Q4_BYTES(offset)) {
        if (T == 1) prefetch_record(record, Q4_BYTES(offset));
        __m512i wl[4], wh[4];
        for (int i = 0; i < 4; i++) {
            __m512i p = _mm512_permutexvar_epi8(gather, _mm512_loadu_si512(record + Q4_CODES(offset) + 64 * i));
            wl[i] = _mm512_and_si512(p, low);
            wh[i] = _mm512_and_si512(_mm512_srli_epi16(p, 4), low);
        }
        __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)record));
#pragma clang loop unroll(full)
        for (int t = 0; t < T; t++) {
            const int8_t *q = xq + (long)t * columns + 32 * b;
            long tb = (long)t * blocks + b;
            const __m512i start = offset ? _mm512_set1_epi32(-8 * xs[tb]) : _mm512_setzero_si512();
            __m512i dot = P == 2 ? _mm512_setzero_si512() : start;
#pragma clang loop unroll(full)
            for (int plane = 0; plane < P; plane++) {
                if (plane == 1) {  /* the high plane's dot, times 256, plus the offset term, goes on with the low plane */
                    q = xl + (long)t * columns + 32 * b;
                    dot = _mm512_add_epi32(_mm512_slli_epi32(dot, 8), start);
                }
                for (int i = 0; i < 4; i++) {
                    int32_t lo, hi;
                    memcpy(&lo, q + 4 * i, 4);
                    memcpy(&hi, q + 16 + 4 * i, 4);
                    dot = _mm512_dpbusd_epi32(dot, wl[i], _mm512_set1_epi32(lo));
                    dot = _mm512_dpbusd_epi32(dot, wh[i], _mm512_set1_epi32(hi));
                }
            }
            __m512 s = _mm512_mul_ps(dw, _mm512_set1_ps(xd[tb]));
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), s, acc[t]);
            if (!offset) acc[t] = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(record + 32))),
                                                  _mm512_set1_ps(xds[tb]), acc[t]);
        }
    }
}

/* The vpermb index: dword r of the result = bytes (j, r), (j+1, r), (j+2, r), (j+3, r) of four 16-byte rows j..j+3. */
__attribute__((target("avx512f")))
static __m512i vnni_gather(void) {
    uint8_t index[64];
    for (int r = 0; r < 16; r++) for (int i = 0; i < 4; i++) index[4 * r + i] = (uint8_t)(16 * i + r);
    return _mm512_loadu_si512(index);
}

/* Q8_0 weights: dot = sum_j w[r,j] * xq[t,j] exactly; the VNNI path multiplies (w + 128) (unsigned) and starts the
   dot at -128 * xs[t,b], which gives the same integer. */
__attribute__((target("avx512f,avx512bw,avx512vnni,avx512vbmi,f16c"), always_inline))
static inline void q8_int8_vnni_tile(const int T, const int P, const uint8_t *base, int blocks, const int8_t *xq,
                                     const int8_t *xl, const float *xd, const int32_t *xs, __m512i gather, __m512 *acc) {
    const int columns = 32 * blocks;
    const __m512i flip = _mm512_set1_epi8((char)0x80);
#pragma clang loop unroll(full)
    for (int t = 0; t < T; t++) acc[t] = _mm512_setzero_ps();
    const uint8_t *record = base;
    for (int b = 0; b < blocks; b++, record += Q8_RECORD) {
        if (T == 1) prefetch_record(record, Q8_RECORD);
        __m512i w[8];
        for (int i = 0; i < 8; i++)
            w[i] = _mm512_xor_si512(_mm512_permutexvar_epi8(gather, _mm512_loadu_si512(record + 32 + 64 * i)), flip);
        __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)record));
#pragma clang loop unroll(full)
        for (int t = 0; t < T; t++) {
            const int8_t *q = xq + (long)t * columns + 32 * b;
            long tb = (long)t * blocks + b;
            const __m512i start = _mm512_set1_epi32(-128 * xs[tb]);
            __m512i dot = P == 2 ? _mm512_setzero_si512() : start;
#pragma clang loop unroll(full)
            for (int plane = 0; plane < P; plane++) {
                if (plane == 1) {  /* as in q4_int8_vnni_tile */
                    q = xl + (long)t * columns + 32 * b;
                    dot = _mm512_add_epi32(_mm512_slli_epi32(dot, 8), start);
                }
                for (int i = 0; i < 8; i++) {
                    int32_t v;
                    memcpy(&v, q + 4 * i, 4);
                    dot = _mm512_dpbusd_epi32(dot, w[i], _mm512_set1_epi32(v));
                }
            }
            __m512 s = _mm512_mul_ps(dw, _mm512_set1_ps(xd[tb]));
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), s, acc[t]);
        }
    }
}

/* One tile of T tokens of group base (T and kind constants): kind 0 Q4_1, 1 Q4_0, 2 Q8_0 records. */
__attribute__((target("avx512f,avx512bw,avx512vnni,avx512vbmi,f16c"), always_inline))
static inline void int8_vnni_tile(const int T, const int P, const int kind, const uint8_t *base, int blocks,
                                  const int8_t *xq, const int8_t *xl, const float *xd, const int32_t *xs,
                                  const float *xds, __m512i gather, float *y, int ldy, int valid, float beta) {
    __m512 acc[VNNI_TILE];
    if (kind == 2) q8_int8_vnni_tile(T, P, base, blocks, xq, xl, xd, xs, gather, acc);
    else q4_int8_vnni_tile(T, P, kind == 1, base, blocks, xq, xl, xd, xs, xds, gather, acc);
    store_tile_vnni(T, acc, y, ldy, valid, beta);
}

__attribute__((target("avx512f,avx512bw,avx512vnni,avx512vbmi,f16c"), always_inline))
static inline void int8_vnni_blocks(const int P, const int kind, const uint8_t *data, int blocks, int g0, int g1,
                                    int rows, const int8_t *xq, const int8_t *xl, const float *xd, const int32_t *xs,
                                    const float *xds, int tokens, float *y, int ldy, float beta) {
    const int columns = 32 * blocks, record_bytes = kind == 2 ? Q8_RECORD : Q4_BYTES(kind == 1);
    const __m512i gather = vnni_gather();
    for (int tb0 = 0; tb0 < tokens; tb0 += VNNI_TOKEN_BLOCK) {
        int tb1 = tokens - tb0 < VNNI_TOKEN_BLOCK ? tokens : tb0 + VNNI_TOKEN_BLOCK;
        for (int g = g0; g < g1; g++) {
            const uint8_t *base = data + (long)g * blocks * record_bytes;
            int valid = rows - 16 * g < 16 ? rows - 16 * g : 16;
            for (int t0 = tb0; t0 < tb1;) {
                const int8_t *q = xq + (long)t0 * columns, *ql = P == 2 ? xl + (long)t0 * columns : NULL;
                const float *d = xd + (long)t0 * blocks, *ds = kind == 0 ? xds + (long)t0 * blocks : NULL;
                const int32_t *s = xs + (long)t0 * blocks;
                float *out = y + (long)t0 * ldy + 16 * g;
                if (tb1 - t0 >= VNNI_TILE) {
                    int8_vnni_tile(VNNI_TILE, P, kind, base, blocks, q, ql, d, s, ds, gather, out, ldy, valid, beta);
                    t0 += VNNI_TILE;
                } else if (tb1 - t0 >= 4) {
                    int8_vnni_tile(4, P, kind, base, blocks, q, ql, d, s, ds, gather, out, ldy, valid, beta);
                    t0 += 4;
                } else {
                    int8_vnni_tile(1, P, kind, base, blocks, q, ql, d, s, ds, gather, out, ldy, valid, beta);
                    t0 += 1;
                }
            }
        }
    }
}

/* The three record layouts, each compiled with its kind a constant. */
__attribute__((target("avx512f,avx512bw,avx512vnni,avx512vbmi,f16c")))
static void int8_vnni(int kind, const uint8_t *data, int blocks, int g0, int g1, int rows, const int8_t *xq,
                      const int8_t *xl, const float *xd, const int32_t *xs, const float *xds, int tokens, float *y,
                      int ldy, float beta) {
#define INT8_VNNI_BLOCKS(P, KIND) int8_vnni_blocks(P, KIND, data, blocks, g0, g1, rows, xq, xl, xd, xs, xds, tokens, y, ldy, beta)
    if (xl) {
        if (kind == 0) INT8_VNNI_BLOCKS(2, 0);
        else if (kind == 1) INT8_VNNI_BLOCKS(2, 1);
        else INT8_VNNI_BLOCKS(2, 2);
    } else {
        if (kind == 0) INT8_VNNI_BLOCKS(1, 0);
        else if (kind == 1) INT8_VNNI_BLOCKS(1, 1);
        else INT8_VNNI_BLOCKS(1, 2);
    }
#undef INT8_VNNI_BLOCKS
}

/* AVX2 (no VNNI): _mm256_maddubs_epi16 multiplies the unsigned codes by the signed activations and adds adjacent
   pairs into int16. unpack(X, Y) of code rows j..j+3 pairs rows (j, j+2) in lane 0 and (j+1, j+3) in lane 1, so one
   int16 of the sum holds 8 such pairs of one weight row: |sum| <= 8 * 2 * 15 * 127 = 30480 < 32768, exact. The two
   lanes are then widened and added: the same integer dot products, and the Float32 steps of the C reference. */
enum { INT8_TILE_AVX2 = 4 };

/* pick[i] for Q4 codes: lane 0 the activation pair (4i, 4i+2), lane 1 the pair (4i+1, 4i+3), eight times each. */
__attribute__((target("avx2,fma,f16c")))
static void q4_picks_avx2(__m256i pick[4]) {
    for (int i = 0; i < 4; i++) {
        uint8_t index[32];
        for (int k = 0; k < 8; k++) {
            index[2 * k] = (uint8_t)(4 * i); index[2 * k + 1] = (uint8_t)(4 * i + 2);
            index[16 + 2 * k] = (uint8_t)(4 * i + 1); index[16 + 2 * k + 1] = (uint8_t)(4 * i + 3);
        }
        pick[i] = _mm256_loadu_si256((const __m256i *)index);
    }
}

/* pick[i] for Q8 codes: activations of columns (4i, 4i+2, 4i+1, 4i+3) in every dword. */
__attribute__((target("avx2,fma,f16c")))
static void q8_picks_avx2(__m256i pick[4]) {
    for (int i = 0; i < 4; i++) {
        uint8_t index[32];
        for (int k = 0; k < 8; k++) {
            index[4 * k] = (uint8_t)(4 * i); index[4 * k + 1] = (uint8_t)(4 * i + 2);
            index[4 * k + 2] = (uint8_t)(4 * i + 1); index[4 * k + 3] = (uint8_t)(4 * i + 3);
        }
        pick[i] = _mm256_loadu_si256((const __m256i *)index);
    }
}

/* One token's activations shuffled by pick[] once for every block: table[8b + i] (i < 4) from block b's first 16
   columns, table[8b + 4 + i] from its last 16. */
__attribute__((target("avx2,fma,f16c")))
static void activation_table_avx2(const int8_t *xq, int blocks, const __m256i pick[4], __m256i *table) {
    for (int b = 0; b < blocks; b++) {
        __m256i lo = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(xq + 32 * b)));
        __m256i hi = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(xq + 32 * b + 16)));
        for (int i = 0; i < 4; i++) {
            table[8 * b + i] = _mm256_shuffle_epi8(lo, pick[i]);
            table[8 * b + 4 + i] = _mm256_shuffle_epi8(hi, pick[i]);
        }
    }
}

/* Stores a tile of `tile` tokens' group sums (two vectors per token, rows 16g..16g+15) into rows t of y. */
__attribute__((target("avx2,fma,f16c")))
static inline void store_tile_avx2(const __m256 *out, int tile, float *y, int ldy, int g, int valid, float beta) {
    for (int t = 0; t < tile; t++) {
        float dot[16];
        _mm256_storeu_ps(dot, out[2 * t]);
        _mm256_storeu_ps(dot + 8, out[2 * t + 1]);
        store_group(y + (long)t * ldy + 16 * g, dot, valid, beta);
    }
}

/* One tile of T tokens (T a constant, so the accumulators stay in registers) over all blocks of group g. */
__attribute__((target("avx2,fma,f16c"), always_inline))
static inline void q4_int8_avx2_tile(const int T, int offset, const uint8_t *base, int blocks, const int8_t *xq,
                                     const float *xd, const int32_t *xs, const float *xds, int t0, const __m256i *pick,
                                     __m256 *out) {
    int columns = 32 * blocks;
    const __m256i low = _mm256_set1_epi8(0x0F);
    __m256 acc[INT8_TILE_AVX2][2];
    for (int t = 0; t < T; t++) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
    const uint8_t *record = base;
    for (int b = 0; b < blocks; b++, record += Q4_BYTES(offset)) {
        prefetch_record(record, Q4_BYTES(offset));
        /* w[i][0], w[i][1]: low nibbles, rows 0-7 and 8-15; w[i][2], w[i][3]: high nibbles. */
        __m256i w[4][4];
        for (int i = 0; i < 4; i++) {
            __m256i X = _mm256_loadu_si256((const __m256i *)(record + Q4_CODES(offset) + 64 * i));
            __m256i Y = _mm256_loadu_si256((const __m256i *)(record + Q4_CODES(offset) + 32 + 64 * i));
            __m256i U = _mm256_unpacklo_epi8(X, Y), V = _mm256_unpackhi_epi8(X, Y);
            w[i][0] = _mm256_and_si256(U, low);
            w[i][1] = _mm256_and_si256(V, low);
            w[i][2] = _mm256_and_si256(_mm256_srli_epi16(U, 4), low);
            w[i][3] = _mm256_and_si256(_mm256_srli_epi16(V, 4), low);
        }
        __m256 dw[2] = {_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)record)),
                        _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(record + 16)))};
        __m256 mw[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};  /* Q4_1's offsets (Q4_0 has none stored) */
        if (!offset) {
            mw[0] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(record + 32)));
            mw[1] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(record + 48)));
        }
        for (int t = 0; t < T; t++) {
            const int8_t *q = xq + (long)(t0 + t) * columns + 32 * b;
            __m256i ql = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)q));
            __m256i qh = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(q + 16)));
            __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
            for (int i = 0; i < 4; i++) {
                __m256i pl = _mm256_shuffle_epi8(ql, pick[i]), ph = _mm256_shuffle_epi8(qh, pick[i]);
                s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(w[i][0], pl));
                s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(w[i][1], pl));
                s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(w[i][2], ph));
                s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(w[i][3], ph));
            }
            long tb = (long)(t0 + t) * blocks + b;
            __m256 s = _mm256_set1_ps(xd[tb]);
            const __m256i sums[2] = {s0, s1};
            for (int h = 0; h < 2; h++) {
                __m256i dot = _mm256_add_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(sums[h])),
                                               _mm256_cvtepi16_epi32(_mm256_extracti128_si256(sums[h], 1)));
                if (offset) dot = _mm256_sub_epi32(dot, _mm256_set1_epi32(8 * xs[tb]));
                acc[t][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_mul_ps(dw[h], s), acc[t][h]);
                if (!offset) acc[t][h] = _mm256_fmadd_ps(mw[h], _mm256_set1_ps(xds[tb]), acc[t][h]);
            }
        }
    }
    for (int t = 0; t < T; t++) { out[2 * t] = acc[t][0]; out[2 * t + 1] = acc[t][1]; }
}

__attribute__((target("avx2,fma,f16c")))
static void q4_int8_avx2(int offset, const uint8_t *data, int blocks, int g0, int g1, int rows, const int8_t *xq,
                         const float *xd, const int32_t *xs, const float *xds, int tokens, float *y, int ldy, float beta) {
    __m256i pick[4];
    q4_picks_avx2(pick);
    for (int g = g0; g < g1; g++) {
        const uint8_t *base = data + (long)g * blocks * Q4_BYTES(offset);
        int valid = rows - 16 * g < 16 ? rows - 16 * g : 16;
        for (int t0 = 0; t0 < tokens;) {
            __m256 out[2 * INT8_TILE_AVX2];
            int tile = tokens - t0 >= INT8_TILE_AVX2 ? INT8_TILE_AVX2 : 1;
            if (tile == INT8_TILE_AVX2) q4_int8_avx2_tile(INT8_TILE_AVX2, offset, base, blocks, xq, xd, xs, xds, t0, pick, out);
            else q4_int8_avx2_tile(1, offset, base, blocks, xq, xd, xs, xds, t0, pick, out);
            store_tile_avx2(out, tile, y + (long)t0 * ldy, ldy, g, valid, beta);
            t0 += tile;
        }
    }
}

/* AVX2, one token (a decode step): the same arithmetic as q4_int8_avx2's one-token tile, but the activation pairs
   each block needs (the byte shuffles by pick[], the same for every group) are made once per call into a table, so
   a group-block reads them from L1 instead of shuffling them again for every group. */
enum { ONE_MAX_BLOCKS = 64 };

__attribute__((target("avx2,fma,f16c")))
static void q4_int8_avx2_one(int offset, const uint8_t *data, int blocks, int g0, int g1, int rows, const int8_t *xq,
                             const float *xd, const int32_t *xs, const float *xds, float *y, float beta) {
    /* pairs[8b + i]: lane 0 the activation pair (4i, 4i+2) of block b's first 16 columns, lane 1 (4i+1, 4i+3);
       pairs[8b + 4 + i]: the same for its last 16 columns. */
    __m256i pairs[8 * ONE_MAX_BLOCKS], pick[4];
    q4_picks_avx2(pick);
    activation_table_avx2(xq, blocks, pick, pairs);
    const __m256i low = _mm256_set1_epi8(0x0F);
    for (int g = g0; g < g1; g++) {
        const uint8_t *record = data + (long)g * blocks * Q4_BYTES(offset);
        int valid = rows - 16 * g < 16 ? rows - 16 * g : 16;
        __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
        for (int b = 0; b < blocks; b++, record += Q4_BYTES(offset)) {
            prefetch_record(record, Q4_BYTES(offset));
            const __m256i *p = pairs + 8 * b;
            __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
            for (int i = 0; i < 4; i++) {
                __m256i X = _mm256_loadu_si256((const __m256i *)(record + Q4_CODES(offset) + 64 * i));
                __m256i Y = _mm256_loadu_si256((const __m256i *)(record + Q4_CODES(offset) + 32 + 64 * i));
                __m256i U = _mm256_unpacklo_epi8(X, Y), V = _mm256_unpackhi_epi8(X, Y);
                s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(_mm256_and_si256(U, low), p[i]));
                s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(_mm256_and_si256(V, low), p[i]));
                s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(U, 4), low), p[4 + i]));
                s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(V, 4), low), p[4 + i]));
            }
            __m256 s = _mm256_set1_ps(xd[b]);
            const __m256i sums[2] = {s0, s1};
            for (int h = 0; h < 2; h++) {
                __m256i dot = _mm256_add_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(sums[h])),
                                               _mm256_cvtepi16_epi32(_mm256_extracti128_si256(sums[h], 1)));
                if (offset) dot = _mm256_sub_epi32(dot, _mm256_set1_epi32(8 * xs[b]));
                __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(record + 16 * h)));
                acc[h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_mul_ps(dw, s), acc[h]);
                if (!offset) acc[h] = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(record + 32 + 16 * h))),
                                                      _mm256_set1_ps(xds[b]), acc[h]);
            }
        }
        store_tile_avx2(acc, 1, y, 0, g, valid, beta);
    }
}

/* AVX2, many tokens (prefill): each group's codes are unpacked once into an L1 panel, 8 weight rows per register with
   one dword per row holding the row's codes of columns 4c..4c+3, so a token's activations enter as a broadcast dword
   (a load, no shuffle) and the int16 sums need no reordering: _mm256_maddubs_epi16 adds the products of columns
   (4c, 4c+1) and (4c+2, 4c+3), eight such steps per block are summed in int16 (|sum| <= 8 * 2 * 15 * 127 = 30480,
   exact) and _mm256_madd_epi16 with ones gives each row's int32 block dot product: the same integers as the C
   reference, then the same Float32 steps in the same order. */
enum { PANEL_MAX_BLOCKS = 64, PANEL_BLOCK = 512, INT8_PANEL_MIN_TOKENS = 8, INT8_PANEL_TILE = 2 };

/* Unpacks blocks [0, blocks) of one q4 group into panel: 16 registers per block, index (c, h): columns 4c..4c+3
   (c < 4: low nibbles, columns 4c..; c >= 4: high nibbles, columns 16 + 4(c-4)..), weight rows 8h..8h+7. */
__attribute__((target("avx2,fma,f16c")))
static void q4_unpack_panel_avx2(int offset, const uint8_t *base, int blocks, uint8_t *panel) {
    const __m256i low = _mm256_set1_epi8(0x0F);
    /* After the qword permute, lane bytes are (A0 A0' A1 A1' A2 A2' A3 A3', B0 B0' ...) with A = (code j, code j+2) and
       B = (code j+1, code j+3) words of rows 0..3 (lane 1: rows 4..7): gather row r's dword as (j, j+1, j+2, j+3). */
    const __m256i order = _mm256_setr_epi8(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15,
                                           0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
    for (int b = 0; b < blocks; b++) {
        const uint8_t *record = base + (long)b * Q4_BYTES(offset);
        __m256i *out = (__m256i *)(panel + (long)b * PANEL_BLOCK);
        for (int i = 0; i < 4; i++) {
            __m256i X = _mm256_loadu_si256((const __m256i *)(record + Q4_CODES(offset) + 64 * i));
            __m256i Y = _mm256_loadu_si256((const __m256i *)(record + Q4_CODES(offset) + 32 + 64 * i));
            __m256i U = _mm256_permute4x64_epi64(_mm256_unpacklo_epi8(X, Y), 0xD8);
            __m256i V = _mm256_permute4x64_epi64(_mm256_unpackhi_epi8(X, Y), 0xD8);
            U = _mm256_shuffle_epi8(U, order);
            V = _mm256_shuffle_epi8(V, order);
            _mm256_store_si256(out + 2 * i, _mm256_and_si256(U, low));
            _mm256_store_si256(out + 2 * i + 1, _mm256_and_si256(V, low));
            _mm256_store_si256(out + 8 + 2 * i, _mm256_and_si256(_mm256_srli_epi16(U, 4), low));
            _mm256_store_si256(out + 8 + 2 * i + 1, _mm256_and_si256(_mm256_srli_epi16(V, 4), low));
        }
    }
}

/* T tokens (a constant) over all blocks of one unpacked group. With two activation planes (P = 2) each plane's int16
   sums are exact as well (the low plane's |sum| <= 8 * 2 * 15 * 128 = 30720) and the block's dot is 256 (high) + (low),
   the integer of the C reference. */
__attribute__((target("avx2,fma,f16c"), always_inline))
static inline void q4_int8_panel_tile(const int T, const int P, int offset, const uint8_t *panel, const uint8_t *base,
                                      int blocks, const int8_t *xq, const int8_t *xl, const float *xd, const int32_t *xs,
                                      const float *xds, int t0, __m256 *out) {
    int columns = 32 * blocks;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[INT8_PANEL_TILE][2];
#pragma clang loop unroll(full)
    for (int t = 0; t < T; t++) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
    for (int b = 0; b < blocks; b++) {
        const __m256i *w = (const __m256i *)(panel + (long)b * PANEL_BLOCK);
        const uint8_t *record = base + (long)b * Q4_BYTES(offset);
        __m256 dw[2] = {_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)record)),
                        _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(record + 16)))};
        __m256i s[2][INT8_PANEL_TILE][2];
#pragma clang loop unroll(full)
        for (int plane = 0; plane < P; plane++) {
            const int8_t *x = plane ? xl : xq;
#pragma clang loop unroll(full)
            for (int t = 0; t < T; t++) s[plane][t][0] = s[plane][t][1] = _mm256_setzero_si256();
#pragma clang loop unroll(full)
            for (int c = 0; c < 8; c++) {
                __m256i w0 = _mm256_load_si256(w + 2 * c), w1 = _mm256_load_si256(w + 2 * c + 1);
#pragma clang loop unroll(full)
                for (int t = 0; t < T; t++) {
                    int32_t quad;
                    memcpy(&quad, x + (long)(t0 + t) * columns + 32 * b + 4 * c, 4);
                    __m256i a = _mm256_set1_epi32(quad);
                    s[plane][t][0] = _mm256_add_epi16(s[plane][t][0], _mm256_maddubs_epi16(w0, a));
                    s[plane][t][1] = _mm256_add_epi16(s[plane][t][1], _mm256_maddubs_epi16(w1, a));
                }
            }
        }
#pragma clang loop unroll(full)
        for (int t = 0; t < T; t++) {
            long tb = (long)(t0 + t) * blocks + b;
            __m256 scale = _mm256_set1_ps(xd[tb]);
#pragma clang loop unroll(full)
            for (int h = 0; h < 2; h++) {
                __m256i dot = _mm256_madd_epi16(s[0][t][h], ones);
                if (P == 2) dot = _mm256_add_epi32(_mm256_slli_epi32(dot, 8), _mm256_madd_epi16(s[1][t][h], ones));
                if (offset) dot = _mm256_sub_epi32(dot, _mm256_set1_epi32(8 * xs[tb]));
                acc[t][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_mul_ps(dw[h], scale), acc[t][h]);
                if (!offset) {
                    __m256 mw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(record + 32 + 16 * h)));
                    acc[t][h] = _mm256_fmadd_ps(mw, _mm256_set1_ps(xds[tb]), acc[t][h]);
                }
            }
        }
    }
#pragma clang loop unroll(full)
    for (int t = 0; t < T; t++) { out[2 * t] = acc[t][0]; out[2 * t + 1] = acc[t][1]; }
}

__attribute__((target("avx2,fma,f16c"), always_inline))
static inline void q4_int8_panel_avx2_planes(const int P, int offset, const uint8_t *data, int blocks, int g0, int g1,
                                             int rows, const int8_t *xq, const int8_t *xl, const float *xd,
                                             const int32_t *xs, const float *xds, int tokens, float *y, int ldy,
                                             float beta) {
    _Alignas(32) uint8_t panel[PANEL_MAX_BLOCKS * PANEL_BLOCK];
    for (int g = g0; g < g1; g++) {
        const uint8_t *base = data + (long)g * blocks * Q4_BYTES(offset);
        int valid = rows - 16 * g < 16 ? rows - 16 * g : 16;
        q4_unpack_panel_avx2(offset, base, blocks, panel);
        for (int t0 = 0; t0 < tokens;) {
            __m256 out[2 * INT8_PANEL_TILE];
            int tile = tokens - t0 >= INT8_PANEL_TILE ? INT8_PANEL_TILE : 1;
            /* The outputs of the next tile's tokens are rows of y far apart (a miss each): fetch them now. */
            for (int t = t0 + tile; t < t0 + 2 * tile && t < tokens; t++)
                _mm_prefetch((const char *)(y + (long)t * ldy + 16 * g), _MM_HINT_T0);
            if (tile == INT8_PANEL_TILE) q4_int8_panel_tile(INT8_PANEL_TILE, P, offset, panel, base, blocks, xq, xl, xd, xs, xds, t0, out);
            else q4_int8_panel_tile(1, P, offset, panel, base, blocks, xq, xl, xd, xs, xds, t0, out);
            store_tile_avx2(out, tile, y + (long)t0 * ldy, ldy, g, valid, beta);
            t0 += tile;
        }
    }
}

/* One activation plane (int8) or two (int8x2, xl not NULL), each compiled with P a constant. */
__attribute__((target("avx2,fma,f16c")))
static void q4_int8_panel_avx2(int offset, const uint8_t *data, int blocks, int g0, int g1, int rows, const int8_t *xq,
                               const int8_t *xl, const float *xd, const int32_t *xs, const float *xds, int tokens,
                               float *y, int ldy, float beta) {
    if (xl) q4_int8_panel_avx2_planes(2, offset, data, blocks, g0, g1, rows, xq, xl, xd, xs, xds, tokens, y, ldy, beta);
    else q4_int8_panel_avx2_planes(1, offset, data, blocks, g0, g1, rows, xq, NULL, xd, xs, xds, tokens, y, ldy, beta);
}

void llm_q4_int8_groups(int level, int offset, const uint8_t *data, int blocks, int group_begin, int group_end, int rows,
                        const int8_t *xq, const int8_t *xl, const float *xd, const int32_t *xs, const float *xds,
                        int tokens, float *y, int ldy, float beta) {
    if (level >= 3) int8_vnni(offset ? 1 : 0, data, blocks, group_begin, group_end, rows, xq, xl, xd, xs, xds, tokens, y, ldy, beta);
    else if (level == 2 && (tokens >= INT8_PANEL_MIN_TOKENS || xl) && blocks <= PANEL_MAX_BLOCKS)
        q4_int8_panel_avx2(offset, data, blocks, group_begin, group_end, rows, xq, xl, xd, xs, xds, tokens, y, ldy, beta);
    else if (xl) int8_scalar(offset ? 1 : 0, data, blocks, group_begin, group_end, rows, xq, xl, xd, xs, xds, tokens, y, ldy, beta);
    else if (level == 2 && tokens == 1 && blocks <= ONE_MAX_BLOCKS)
        q4_int8_avx2_one(offset, data, blocks, group_begin, group_end, rows, xq, xd, xs, xds, y, beta);
    else if (level == 2) q4_int8_avx2(offset, data, blocks, group_begin, group_end, rows, xq, xd, xs, xds, tokens, y, ldy, beta);
    else int8_scalar(offset ? 1 : 0, data, blocks, group_begin, group_end, rows, xq, NULL, xd, xs, xds, tokens, y, ldy, beta);
}

/* AVX2 for Q8_0 codes (signed): _mm256_maddubs_epi16(|w|, sign(q, w)) = w * q pairwise, |pair| <= 2 * 128 * 127 <
   32768, exact; the bytes are arranged so that each dword holds one row's codes of columns (4i, 4i+2, 4i+1, 4i+3), and
   _mm256_madd_epi16 with ones adds the two pairs of a row into its int32. */
__attribute__((target("avx2,fma,f16c"), always_inline))
static inline void q8_int8_avx2_tile(const int T, const uint8_t *base, int blocks, const int8_t *xq, const float *xd,
                                     int t0, const __m256i *pick, __m256 *out) {
    int columns = 32 * blocks;
    /* After the qword permute, lane words are (A0..A3, B0..B3): interleave them to A0 B0 A1 B1 ... */
    const __m256i interleave = _mm256_setr_epi8(0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15,
                                                0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[INT8_TILE_AVX2][2];
    for (int t = 0; t < T; t++) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
    const uint8_t *record = base;
    for (int b = 0; b < blocks; b++, record += Q8_RECORD) {
        prefetch_record(record, Q8_RECORD);
        /* w[i][h]: code rows 4i..4i+3, weight rows 8h..8h+7, one dword per weight row; a: their magnitudes. */
        __m256i w[8][2], a[8][2];
        for (int i = 0; i < 8; i++) {
            __m256i X = _mm256_loadu_si256((const __m256i *)(record + 32 + 64 * i));
            __m256i Y = _mm256_loadu_si256((const __m256i *)(record + 64 + 64 * i));
            w[i][0] = _mm256_shuffle_epi8(_mm256_permute4x64_epi64(_mm256_unpacklo_epi8(X, Y), 0xD8), interleave);
            w[i][1] = _mm256_shuffle_epi8(_mm256_permute4x64_epi64(_mm256_unpackhi_epi8(X, Y), 0xD8), interleave);
            a[i][0] = _mm256_abs_epi8(w[i][0]);
            a[i][1] = _mm256_abs_epi8(w[i][1]);
        }
        __m256 dw[2] = {_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)record)),
                        _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(record + 16)))};
        for (int t = 0; t < T; t++) {
            const int8_t *q = xq + (long)(t0 + t) * columns + 32 * b;
            __m256i qv[2] = {_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)q)),
                             _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(q + 16)))};
            __m256i dot[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
            for (int i = 0; i < 8; i++) {
                __m256i p = _mm256_shuffle_epi8(qv[i >> 2], pick[i & 3]);
                for (int h = 0; h < 2; h++) {
                    __m256i m = _mm256_maddubs_epi16(a[i][h], _mm256_sign_epi8(p, w[i][h]));
                    dot[h] = _mm256_add_epi32(dot[h], _mm256_madd_epi16(m, ones));
                }
            }
            __m256 s = _mm256_set1_ps(xd[(long)(t0 + t) * blocks + b]);
            for (int h = 0; h < 2; h++)
                acc[t][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot[h]), _mm256_mul_ps(dw[h], s), acc[t][h]);
        }
    }
    for (int t = 0; t < T; t++) { out[2 * t] = acc[t][0]; out[2 * t + 1] = acc[t][1]; }
}

__attribute__((target("avx2,fma,f16c")))
static void q8_int8_avx2(const uint8_t *data, int blocks, int g0, int g1, int rows, const int8_t *xq, const float *xd,
                         int tokens, float *y, int ldy, float beta) {
    __m256i pick[4];
    q8_picks_avx2(pick);
    for (int g = g0; g < g1; g++) {
        const uint8_t *base = data + (long)g * blocks * Q8_RECORD;
        int valid = rows - 16 * g < 16 ? rows - 16 * g : 16;
        for (int t0 = 0; t0 < tokens;) {
            __m256 out[2 * INT8_TILE_AVX2];
            int tile = tokens - t0 >= INT8_TILE_AVX2 ? INT8_TILE_AVX2 : 1;
            if (tile == INT8_TILE_AVX2) q8_int8_avx2_tile(INT8_TILE_AVX2, base, blocks, xq, xd, t0, pick, out);
            else q8_int8_avx2_tile(1, base, blocks, xq, xd, t0, pick, out);
            store_tile_avx2(out, tile, y + (long)t0 * ldy, ldy, g, valid, beta);
            t0 += tile;
        }
    }
}

/* AVX2, one token: q8_int8_avx2's one-token tile with the activation dwords (shuffled by pick[], the same for every
   group) made once per call into a table, and each code row unpacked where it is used, so nothing spills. */
__attribute__((target("avx2,fma,f16c")))
static void q8_int8_avx2_one(const uint8_t *data, int blocks, int g0, int g1, int rows, const int8_t *xq, const float *xd,
                             float *y, float beta) {
    /* act[8b + i]: block b's activations of columns (4i', 4i'+2, 4i'+1, 4i'+3), i' = i mod 4, of its half i / 4,
       repeated in every dword. */
    __m256i act[8 * ONE_MAX_BLOCKS], pick[4];
    q8_picks_avx2(pick);
    activation_table_avx2(xq, blocks, pick, act);
    const __m256i interleave = _mm256_setr_epi8(0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15,
                                                0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15);
    const __m256i ones = _mm256_set1_epi16(1);
    for (int g = g0; g < g1; g++) {
        const uint8_t *record = data + (long)g * blocks * Q8_RECORD;
        int valid = rows - 16 * g < 16 ? rows - 16 * g : 16;
        __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
        for (int b = 0; b < blocks; b++, record += Q8_RECORD) {
            prefetch_record(record, Q8_RECORD);
            const __m256i *p = act + 8 * b;
            __m256i dot[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
            for (int i = 0; i < 8; i++) {
                __m256i X = _mm256_loadu_si256((const __m256i *)(record + 32 + 64 * i));
                __m256i Y = _mm256_loadu_si256((const __m256i *)(record + 64 + 64 * i));
                __m256i w0 = _mm256_shuffle_epi8(_mm256_permute4x64_epi64(_mm256_unpacklo_epi8(X, Y), 0xD8), interleave);
                __m256i w1 = _mm256_shuffle_epi8(_mm256_permute4x64_epi64(_mm256_unpackhi_epi8(X, Y), 0xD8), interleave);
                __m256i m0 = _mm256_maddubs_epi16(_mm256_abs_epi8(w0), _mm256_sign_epi8(p[i], w0));
                __m256i m1 = _mm256_maddubs_epi16(_mm256_abs_epi8(w1), _mm256_sign_epi8(p[i], w1));
                dot[0] = _mm256_add_epi32(dot[0], _mm256_madd_epi16(m0, ones));
                dot[1] = _mm256_add_epi32(dot[1], _mm256_madd_epi16(m1, ones));
            }
            __m256 s = _mm256_set1_ps(xd[b]);
            for (int h = 0; h < 2; h++) {
                __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(record + 16 * h)));
                acc[h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot[h]), _mm256_mul_ps(dw, s), acc[h]);
            }
        }
        store_tile_avx2(acc, 1, y, 0, g, valid, beta);
    }
}

/* AVX2, Q8_0 codes with two activation planes (no pmaddubsw here: its sign trick needs |activation| <= 127, and the
   low plane reaches -128): each group's codes are widened once to int16 in a panel, one register per column pair
   (2p, 2p+1) and half of the rows, int32 lane r holding the pair (w[r][2p], w[r][2p+1]); a token's activations
   a = 256 h + l (|a| <= 32639) enter as broadcast int16 pairs, and _mm256_madd_epi16 adds the two products of each
   row into its int32 dot (16 steps: |dot| <= 32 * 128 * 32640 < 2^31, exact): the integer of the C reference, then
   its Float32 steps in its order. */
enum { Q8X2_PANEL_REGISTERS = 32 };  /* per block: 16 column pairs x 2 halves */

__attribute__((target("avx2,fma,f16c")))
static void q8_int8x2_avx2(const uint8_t *data, int blocks, int g0, int g1, int rows, const int8_t *xh, const int8_t *xl,
                           const float *xd, int tokens, float *y, int ldy, float beta) {
    const int columns = 32 * blocks;
    __m256i *panel = aligned_alloc(32, sizeof(__m256i) * Q8X2_PANEL_REGISTERS * (size_t)blocks);
    if (!panel) abort();
    for (int g = g0; g < g1; g++) {
        const uint8_t *base = data + (long)g * blocks * Q8_RECORD;
        int valid = rows - 16 * g < 16 ? rows - 16 * g : 16;
        for (int b = 0; b < blocks; b++) {
            const uint8_t *codes = base + (long)b * Q8_RECORD + 32;
            for (int p = 0; p < 16; p++) {
                __m128i A = _mm_loadu_si128((const __m128i *)(codes + 32 * p));
                __m128i B = _mm_loadu_si128((const __m128i *)(codes + 32 * p + 16));
                panel[Q8X2_PANEL_REGISTERS * b + 2 * p] = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(A, B));
                panel[Q8X2_PANEL_REGISTERS * b + 2 * p + 1] = _mm256_cvtepi8_epi16(_mm_unpackhi_epi8(A, B));
            }
        }
        for (int t = 0; t < tokens; t++) {
            __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
            for (int b = 0; b < blocks; b++) {
                const int8_t *h = xh + (long)t * columns + 32 * b, *l = xl + (long)t * columns + 32 * b;
                _Alignas(32) int32_t pairs[16];
                for (int k = 0; k < 2; k++) {
                    __m256i high = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(h + 16 * k)));
                    __m256i low = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(l + 16 * k)));
                    _mm256_store_si256((__m256i *)(pairs + 8 * k), _mm256_add_epi16(_mm256_slli_epi16(high, 8), low));
                }
                __m256i dot[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
                for (int p = 0; p < 16; p++) {
                    __m256i a = _mm256_set1_epi32(pairs[p]);
                    dot[0] = _mm256_add_epi32(dot[0], _mm256_madd_epi16(panel[Q8X2_PANEL_REGISTERS * b + 2 * p], a));
                    dot[1] = _mm256_add_epi32(dot[1], _mm256_madd_epi16(panel[Q8X2_PANEL_REGISTERS * b + 2 * p + 1], a));
                }
                const uint8_t *record = base + (long)b * Q8_RECORD;
                __m256 scale = _mm256_set1_ps(xd[(long)t * blocks + b]);
                for (int half = 0; half < 2; half++) {
                    __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(record + 16 * half)));
                    acc[half] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot[half]), _mm256_mul_ps(dw, scale), acc[half]);
                }
            }
            store_tile_avx2(acc, 1, y + (long)t * ldy, ldy, g, valid, beta);
        }
    }
    free(panel);
}

void llm_q8_int8_groups(int level, const uint8_t *data, int blocks, int group_begin, int group_end, int rows,
                        const int8_t *xq, const int8_t *xl, const float *xd, const int32_t *xs, int tokens, float *y,
                        int ldy, float beta) {
    if (level >= 3) int8_vnni(2, data, blocks, group_begin, group_end, rows, xq, xl, xd, xs, NULL, tokens, y, ldy, beta);
    else if (level == 2 && xl) q8_int8x2_avx2(data, blocks, group_begin, group_end, rows, xq, xl, xd, tokens, y, ldy, beta);
    else if (xl) int8_scalar(2, data, blocks, group_begin, group_end, rows, xq, xl, xd, xs, NULL, tokens, y, ldy, beta);
    else if (level == 2 && tokens == 1 && blocks <= ONE_MAX_BLOCKS)
        q8_int8_avx2_one(data, blocks, group_begin, group_end, rows, xq, xd, y, beta);
    else if (level == 2) q8_int8_avx2(data, blocks, group_begin, group_end, rows, xq, xd, tokens, y, ldy, beta);
    else int8_scalar(2, data, blocks, group_begin, group_end, rows, xq, NULL, xd, xs, NULL, tokens, y, ldy, beta);
}

/* ---------------------------------------------------------------- repacking (at load) */

static inline int half_finite(uint16_t h) { return (h & 0x7C00) != 0x7C00; }

__attribute__((target("avx2,fma,f16c")))
int llm_repack_groups(int type, const uint8_t *const *sources, int rows, int blocks, int group_begin, int group_end, uint8_t *out) {
    int q8 = type == 2, bytes_per_block = type == 0 ? 20 : type == 1 ? 18 : 34, record_bytes = q8 ? Q8_RECORD : Q4_BYTES(type == 1);
    for (int g = group_begin; g < group_end; g++) {
        /* Every byte of a full group's records is written below; only a last group with padding rows is zeroed
           (zeroing every group first wrote the whole matrix twice, most of the load time). */
        if (16 * g + 16 > rows) memset(out + (long)g * blocks * record_bytes, 0, (size_t)blocks * record_bytes);
        for (int lane = 0; lane < 16 && 16 * g + lane < rows; lane++) {
            const uint8_t *block = sources[16 * g + lane];
            uint8_t *record = out + (long)g * blocks * record_bytes;
            for (int b = 0; b < blocks; b++, block += bytes_per_block, record += record_bytes) {
                uint16_t d;
                memcpy(&d, block, 2);
                if (!half_finite(d)) return 1;
                ((uint16_t *)record)[lane] = d;
                if (q8) {
                    for (int j = 0; j < 32; j++) record[32 + 16 * j + lane] = block[2 + j];
                    continue;
                }
                if (type == 0) {
                    uint16_t m;
                    memcpy(&m, block + 2, 2);
                    if (!half_finite(m)) return 1;
                    ((uint16_t *)record)[16 + lane] = m;
                }
                const uint8_t *codes = block + (type == 0 ? 4 : 2);
                for (int j = 0; j < 16; j++) record[Q4_CODES(type == 1) + 16 * j + lane] = codes[j];
            }
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- decode attention (int8 runtime) */

/* scores[k] = q . key_k for k < count (keys row stride `stride`, dim a multiple of 8): eight lane sums, each a
   multiply then an add, reduced in a fixed order; the AVX2 path and the C loop give the same floats. The AVX2
   path takes four keys at a time (four independent add chains instead of one), each key's sums unchanged. */
__attribute__((target("avx2")))
static void dots_avx2(const float *q, const float *keys, int stride, int count, int dim, float *scores) {
    int k = 0;
    for (; k + 4 <= count; k += 4) {
        const float *key = keys + (long)k * stride;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        for (int i = 0; i < dim; i += 8) {
            __m256 qi = _mm256_loadu_ps(q + i);
            a0 = _mm256_add_ps(a0, _mm256_mul_ps(qi, _mm256_loadu_ps(key + i)));
            a1 = _mm256_add_ps(a1, _mm256_mul_ps(qi, _mm256_loadu_ps(key + stride + i)));
            a2 = _mm256_add_ps(a2, _mm256_mul_ps(qi, _mm256_loadu_ps(key + 2 * (long)stride + i)));
            a3 = _mm256_add_ps(a3, _mm256_mul_ps(qi, _mm256_loadu_ps(key + 3 * (long)stride + i)));
        }
        /* hadd pairs lanes (0+1, 2+3) then ((0+1)+(2+3)) within each 128-bit half; adding the halves gives
           ((0+1)+(2+3)) + ((4+5)+(6+7)) per key: the scalar order. */
        __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
        _mm_storeu_ps(scores + k, _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
    }
    for (; k < count; k++) {
        const float *key = keys + (long)k * stride;
        __m256 acc = _mm256_setzero_ps();
        for (int i = 0; i < dim; i += 8) acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(key + i)));
        float lane[8];
        _mm256_storeu_ps(lane, acc);
        scores[k] = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
    }
}

static void dots_scalar(const float *q, const float *keys, int stride, int count, int dim, float *scores) {
    for (int k = 0; k < count; k++) {
        const float *key = keys + (long)k * stride;
        float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (int i = 0; i < dim; i += 8) for (int l = 0; l < 8; l++) lane[l] = lane[l] + q[i + l] * key[i + l];
        scores[k] = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
    }
}

void llm_attention_dots(int level, const float *q, const float *keys, int stride, int count, int dim, float *scores) {
    if (level >= 1) dots_avx2(q, keys, stride, count, dim, scores);
    else dots_scalar(q, keys, stride, count, dim, scores);
}

/* out = sum_k p[k] * value_k, in k order, each step a multiply then an add (the same on both paths). The AVX2
   path keeps up to 8 output vectors (64 floats) in flight per pass over the keys: independent add chains, each
   output's order over k unchanged. */
__attribute__((target("avx2")))
static inline void weighted_sum_avx2_columns(const int T, const float *p, const float *values, int stride, int count, float *out) {
    __m256 acc[8];
    for (int t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();
    for (int k = 0; k < count; k++) {
        __m256 pk = _mm256_set1_ps(p[k]);
        const float *v = values + (long)k * stride;
        for (int t = 0; t < T; t++) acc[t] = _mm256_add_ps(acc[t], _mm256_mul_ps(pk, _mm256_loadu_ps(v + 8 * t)));
    }
    for (int t = 0; t < T; t++) _mm256_storeu_ps(out + 8 * t, acc[t]);
}

__attribute__((target("avx2")))
static void weighted_sum_avx2(const float *p, const float *values, int stride, int count, int dim, float *out) {
    int i = 0;
    for (; i + 64 <= dim; i += 64) weighted_sum_avx2_columns(8, p, values + i, stride, count, out + i);
    for (; i < dim; i += 8) weighted_sum_avx2_columns(1, p, values + i, stride, count, out + i);
}

void llm_attention_weighted_sum(int level, const float *p, const float *values, int stride, int count, int dim, float *out) {
    if (level >= 1) { weighted_sum_avx2(p, values, stride, count, dim, out); return; }
    for (int i = 0; i < dim; i++) {
        float acc = 0;
        for (int k = 0; k < count; k++) acc = acc + p[k] * values[(long)k * stride + i];
        out[i] = acc;
    }
}

static long argmax_scalar(const float *x, long begin, long end, long best) {
    for (long i = begin; i < end; i++) if (x[i] > x[best]) best = i;
    return best;
}

__attribute__((target("avx2")))
static long argmax_avx2(const float *x, long n) {
    long best = 0, i = 0;
    for (; i + 8 <= n; i += 8)
        if (_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + i), _mm256_set1_ps(x[best]), _CMP_GT_OQ)))
            best = argmax_scalar(x, i, i + 8, best);
    return argmax_scalar(x, i, n, best);
}

long llm_argmax(int level, const float *x, long n) {
    return level >= 1 ? argmax_avx2(x, n) : argmax_scalar(x, 0, n, 0);
}

/* ---------------------------------------------------------------- Float32 products with a dequantised panel */

/* Y[t, o] = X[t, :] . P[:, o], each output one chain of fused multiply-adds over k = 0, 1, ..., K - 1 starting from 0,
   then stored as store_group does (beta * y rounded, then added). Vectors run across outputs and never across k, so
   the tiles (one source, compiled for AVX-512F and for AVX2) and the C loop (fmaf) compute the same chains: identical
   floats on any CPU, whatever the tile, the thread split or the vector width. Tokens go in blocks of GEMM_TOKEN_BLOCK:
   each block runs over every strip before the next, so its rows of X stay in L2 while the strips stream through. */
enum { GEMM_STRIP = LLM_GEMM_STRIP, GEMM_TOKEN_BLOCK = 96, GEMM_TILE_VECTORS = 24 };

/* 16 floats; inlined into a function compiled for AVX-512F it is one register, for AVX2 two. */
typedef float v16f __attribute__((ext_vector_type(16)));

/* T tokens x W vectors of 16 outputs of a strip (from `columns` on): T·W accumulators, each lane one output's chain.
   T·W <= GEMM_TILE_VECTORS, W <= 2; the arrays have those fixed sizes (a variable-length one would live on the stack). */
__attribute__((always_inline))
static inline void gemm_tile(const int T, const int W, const float *x, int ldx, int K, const float *columns,
                             float *y, int ldy, int valid, float beta) {
    v16f acc[GEMM_TILE_VECTORS];
#pragma clang loop unroll(full)
    for (int i = 0; i < T * W; i++) acc[i] = 0;
    for (int k = 0; k < K; k++) {
        v16f b[2];
#pragma clang loop unroll(full)
        for (int w = 0; w < W; w++) __builtin_memcpy(&b[w], columns + GEMM_STRIP * k + 16 * w, sizeof(v16f));
#pragma clang loop unroll(full)
        for (int t = 0; t < T; t++) {
            v16f a = x[(long)t * ldx + k];
#pragma clang loop unroll(full)
            for (int w = 0; w < W; w++) acc[t * W + w] = __builtin_elementwise_fma(a, b[w], acc[t * W + w]);
        }
    }
#pragma clang loop unroll(full)
    for (int t = 0; t < T; t++) {
        if (beta == 0 && valid == 16 * W) { __builtin_memcpy(y + (long)t * ldy, &acc[t * W], sizeof(v16f) * W); continue; }
        float out[32];
        __builtin_memcpy(out, &acc[t * W], sizeof(v16f) * W);
        store_group(y + (long)t * ldy, out, valid, beta);
    }
}

/* Token blocks, then strips, then tiles of T tokens (T / 3 and 1 at the end of a block) x 16·W outputs. */
__attribute__((always_inline))
static inline void gemm_panel_tiles(const int T, const int W, const float *x, int ldx, int tokens, int K, const float *panel,
                                    int strips, int outputs, float *y, int ldy, float beta) {
    for (int t0 = 0; t0 < tokens; t0 += GEMM_TOKEN_BLOCK) {
        int t1 = t0 + GEMM_TOKEN_BLOCK < tokens ? t0 + GEMM_TOKEN_BLOCK : tokens;
        for (int s = 0; s < strips; s++)
            for (int c = 0; c < GEMM_STRIP; c += 16 * W) {
                int valid = outputs - GEMM_STRIP * s - c;
                if (valid <= 0) break;
                if (valid > 16 * W) valid = 16 * W;
                const float *columns = panel + (long)s * K * GEMM_STRIP + c;
                float *ys = y + GEMM_STRIP * s + c;
                int t = t0;
                for (; t + T <= t1; t += T) gemm_tile(T, W, x + (long)t * ldx, ldx, K, columns, ys + (long)t * ldy, ldy, valid, beta);
                for (; t + T / 3 <= t1; t += T / 3) gemm_tile(T / 3, W, x + (long)t * ldx, ldx, K, columns, ys + (long)t * ldy, ldy, valid, beta);
                for (; t < t1; t++) gemm_tile(1, W, x + (long)t * ldx, ldx, K, columns, ys + (long)t * ldy, ldy, valid, beta);
            }
    }
}

/* The same source at two widths: AVX-512F tiles of 12 tokens x 32 outputs (24 of its 32 registers), AVX2 tiles of 6
   tokens x 16 outputs (12 of its 16). */
__attribute__((target("avx512f")))
static void gemm_panel_avx512(const float *x, int ldx, int tokens, int K, const float *panel, int strips, int outputs,
                              float *y, int ldy, float beta) {
    gemm_panel_tiles(12, 2, x, ldx, tokens, K, panel, strips, outputs, y, ldy, beta);
}

__attribute__((target("avx2,fma")))
static void gemm_panel_avx2(const float *x, int ldx, int tokens, int K, const float *panel, int strips, int outputs,
                            float *y, int ldy, float beta) {
    gemm_panel_tiles(6, 1, x, ldx, tokens, K, panel, strips, outputs, y, ldy, beta);
}

/* The reference: the same chains one output at a time (fmaf is the fused multiply-add on any CPU). */
static void gemm_panel_c(const float *x, int ldx, int tokens, int K, const float *panel, int strips, int outputs,
                         float *y, int ldy, float beta) {
    for (int t = 0; t < tokens; t++)
        for (int s = 0; s < strips; s++) {
            int valid = outputs - GEMM_STRIP * s < GEMM_STRIP ? outputs - GEMM_STRIP * s : GEMM_STRIP;
            float out[GEMM_STRIP];
            for (int o = 0; o < valid; o++) {
                const float *column = panel + (long)s * K * GEMM_STRIP + o;
                float acc = 0;
                for (int k = 0; k < K; k++) acc = fmaf(x[(long)t * ldx + k], column[GEMM_STRIP * k], acc);
                out[o] = acc;
            }
            store_group(y + (long)t * ldy + GEMM_STRIP * s, out, valid, beta);
        }
}

int llm_gemm_level(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 2;
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
}

void llm_gemm_panel(int level, const float *x, int ldx, int tokens, int K, const float *panel, int strips, int outputs,
                    float *y, int ldy, float beta) {
    if (level == 2) gemm_panel_avx512(x, ldx, tokens, K, panel, strips, outputs, y, ldy, beta);
    else if (level == 1) gemm_panel_avx2(x, ldx, tokens, K, panel, strips, outputs, y, ldy, beta);
    else gemm_panel_c(x, ldx, tokens, K, panel, strips, outputs, y, ldy, beta);
}

void llm_pack_strips(const float *b, int ldb, int trans, int K, int N, float *panel) {
    int strips = (N + GEMM_STRIP - 1) / GEMM_STRIP;
    for (int s = 0; s < strips; s++) {
        float *strip = panel + (long)s * K * GEMM_STRIP;
        int valid = N - GEMM_STRIP * s < GEMM_STRIP ? N - GEMM_STRIP * s : GEMM_STRIP;
        for (int k = 0; k < K; k++) {
            float *row = strip + (long)GEMM_STRIP * k;
            if (trans) for (int o = 0; o < valid; o++) row[o] = b[(long)(GEMM_STRIP * s + o) * ldb + k];
            else memcpy(row, b + (long)k * ldb + GEMM_STRIP * s, sizeof(float) * valid);
            for (int o = valid; o < GEMM_STRIP; o++) row[o] = 0;
        }
    }
}
