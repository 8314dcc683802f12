#include "llm_kernels.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

enum { Q4_RECORD = 320, Q8_RECORD = 544 };

/* A decode step streams ~100 MB of weights that no cache holds; the hardware prefetcher alone leaves the loads
   waiting on memory, so each record's cache lines are prefetched this many bytes ahead (measured: 1.5x). */
enum { PREFETCH_AHEAD = 8192 };

static inline void prefetch_record(const uint8_t *record, int bytes) {
    for (int k = 0; k < bytes; k += 64) _mm_prefetch((const char *)record + PREFETCH_AHEAD + k, _MM_HINT_T0);
}

/* The AVX-512 path is taken only with LAB_KERNELS=native: by default (portable kernels, see Lab's
   Parallel.KernelChoice) every CPU with AVX2 runs the AVX2 path, so results do not depend on the CPU family. */
int llm_simd_level(void) {
    __builtin_cpu_init();
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    const char *choice = getenv("LAB_KERNELS");
    int native = choice != NULL && strcmp(choice, "native") == 0;
    if (avx2 && native && __builtin_cpu_supports("avx512f")) return 2;
    return avx2 ? 1 : 0;
}

/* Stores the 16 sums of a group (lanes past `valid` dropped): y = dot (+ beta y). */
static inline void store_group(float *y, const float *dot, int valid, float beta) {
    for (int r = 0; r < valid; r++) y[r] = beta == 0 ? dot[r] : dot[r] + beta * y[r];
}

/* ---------------------------------------------------------------- AVX-512F: one group = one vector */

__attribute__((target("avx512f,f16c")))
static void q4_groups_avx512(const uint8_t *data, const float *x, const float *xsum, int blocks,
                             int group_begin, int group_end, int rows, float *y, float beta) {
    const __m512i low = _mm512_set1_epi32(0x0F);
    for (int g = group_begin; g < group_end; g++) {
        const uint8_t *record = data + (long)g * blocks * Q4_RECORD;
        __m512 acc = _mm512_setzero_ps();
        for (int b = 0; b < blocks; b++, record += Q4_RECORD) {
            prefetch_record(record, Q4_RECORD);
            const float *xb = x + 32 * b;
            const uint8_t *codes = record + 64;
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
            __m512 m = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(record + 32)));
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

__attribute__((target("avx2,fma,f16c")))
static void q4_groups_avx2(const uint8_t *data, const float *x, const float *xsum, int blocks,
                           int group_begin, int group_end, int rows, float *y, float beta) {
    const __m256i low = _mm256_set1_epi32(0x0F);
    for (int g = group_begin; g < group_end; g++) {
        const uint8_t *record = data + (long)g * blocks * Q4_RECORD;
        __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
        for (int b = 0; b < blocks; b++, record += Q4_RECORD) {
            prefetch_record(record, Q4_RECORD);
            const float *xb = x + 32 * b;
            const uint8_t *codes = record + 64;
            for (int half = 0; half < 2; half++) {
                __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
                for (int j = 0; j < 16; j++) {
                    __m256i c = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(codes + 16 * j + 8 * half)));
                    s0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(c, low)), _mm256_set1_ps(xb[j]), s0);
                    s1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(c, 4)), _mm256_set1_ps(xb[j + 16]), s1);
                }
                __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(record + 16 * half)));
                __m256 m = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(record + 32 + 16 * half)));
                acc[half] = _mm256_fmadd_ps(_mm256_add_ps(s0, s1), d, acc[half]);
                acc[half] = _mm256_fmadd_ps(m, _mm256_set1_ps(xsum[b]), acc[half]);
            }
        }
        float dot[16];
        _mm256_storeu_ps(dot, acc[0]);
        _mm256_storeu_ps(dot + 8, acc[1]);
        int valid = rows - 16 * g < 16 ? rows - 16 * g : 16;
        store_group(y + 16 * g, dot, valid, beta);
    }
}

__attribute__((target("avx2,fma,f16c")))
static void q8_groups_avx2(const uint8_t *data, const float *x, int blocks,
                           int group_begin, int group_end, int rows, float *y, float beta) {
    for (int g = group_begin; g < group_end; g++) {
        const uint8_t *record = data + (long)g * blocks * Q8_RECORD;
        __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
        for (int b = 0; b < blocks; b++, record += Q8_RECORD) {
            prefetch_record(record, Q8_RECORD);
            const float *xb = x + 32 * b;
            const uint8_t *codes = record + 32;
            for (int half = 0; half < 2; half++) {
                __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
                for (int j = 0; j < 32; j += 2) {
                    __m256i c0 = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(codes + 16 * j + 8 * half)));
                    __m256i c1 = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(codes + 16 * j + 16 + 8 * half)));
                    s0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(c0), _mm256_set1_ps(xb[j]), s0);
                    s1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(c1), _mm256_set1_ps(xb[j + 1]), s1);
                }
                __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(record + 16 * half)));
                acc[half] = _mm256_fmadd_ps(_mm256_add_ps(s0, s1), d, acc[half]);
            }
        }
        float dot[16];
        _mm256_storeu_ps(dot, acc[0]);
        _mm256_storeu_ps(dot + 8, acc[1]);
        int valid = rows - 16 * g < 16 ? rows - 16 * g : 16;
        store_group(y + 16 * g, dot, valid, beta);
    }
}

/* ---------------------------------------------------------------- entry points */

void llm_q4_groups(int level, const uint8_t *data, const float *x, const float *xsum, int blocks,
                   int group_begin, int group_end, int rows, float *y, float beta) {
    if (level >= 2) q4_groups_avx512(data, x, xsum, blocks, group_begin, group_end, rows, y, beta);
    else q4_groups_avx2(data, x, xsum, blocks, group_begin, group_end, rows, y, beta);
}

void llm_q8_groups(int level, const uint8_t *data, const float *x, int blocks,
                   int group_begin, int group_end, int rows, float *y, float beta) {
    if (level >= 2) q8_groups_avx512(data, x, blocks, group_begin, group_end, rows, y, beta);
    else q8_groups_avx2(data, x, blocks, group_begin, group_end, rows, y, beta);
}
