#include "llm_kernels.h"
#include <immintrin.h>

int llm_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

__attribute__((target("avx2,fma")))
static inline float horizontal_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma")))
void llm_q4_rows(const uint8_t *codes, const float *scales, const float *offsets, const float *x, const float *xsum,
                 int blocks, int row_begin, int row_end, float *y, float beta) {
    const __m128i mask = _mm_set1_epi8(0x0F);
    for (int r = row_begin; r < row_end; r++) {
        const uint8_t *q = codes + (long)r * blocks * 16;
        const float *d = scales + (long)r * blocks, *m = offsets + (long)r * blocks;
        __m256 acc = _mm256_setzero_ps();
        float offset_term = 0;
        for (int b = 0; b < blocks; b++) {
            __m128i packed = _mm_loadu_si128((const __m128i *)(q + 16 * b));
            __m128i low = _mm_and_si128(packed, mask);
            __m128i high = _mm_and_si128(_mm_srli_epi16(packed, 4), mask);
            const float *xb = x + 32 * b;
            __m256 s = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(low)), _mm256_loadu_ps(xb));
            s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(low, 8))), _mm256_loadu_ps(xb + 8), s);
            s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(high)), _mm256_loadu_ps(xb + 16), s);
            s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(high, 8))), _mm256_loadu_ps(xb + 24), s);
            acc = _mm256_fmadd_ps(s, _mm256_set1_ps(d[b]), acc);
            offset_term += m[b] * xsum[b];
        }
        float dot = horizontal_sum(acc) + offset_term;
        y[r] = beta == 0 ? dot : dot + beta * y[r];
    }
}

__attribute__((target("avx2,fma")))
void llm_q8_rows(const int8_t *codes, const float *scales, const float *x,
                 int blocks, int row_begin, int row_end, float *y, float beta) {
    for (int r = row_begin; r < row_end; r++) {
        const int8_t *q = codes + (long)r * blocks * 32;
        const float *d = scales + (long)r * blocks;
        __m256 acc = _mm256_setzero_ps();
        for (int b = 0; b < blocks; b++) {
            __m256i bytes = _mm256_loadu_si256((const __m256i *)(q + 32 * b));
            __m128i lo = _mm256_castsi256_si128(bytes), hi = _mm256_extracti128_si256(bytes, 1);
            const float *xb = x + 32 * b;
            __m256 s = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo)), _mm256_loadu_ps(xb));
            s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8))), _mm256_loadu_ps(xb + 8), s);
            s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)), _mm256_loadu_ps(xb + 16), s);
            s = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8))), _mm256_loadu_ps(xb + 24), s);
            acc = _mm256_fmadd_ps(s, _mm256_set1_ps(d[b]), acc);
        }
        float dot = horizontal_sum(acc);
        y[r] = beta == 0 ? dot : dot + beta * y[r];
    }
}
