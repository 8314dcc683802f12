#include "lab_kernels.h"
#include <immintrin.h>

/* Every multiply and add below stays a separate IEEE operation, as in the Swift loops these kernels mirror. */
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

int lab_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/* Lab's fastExp (Tensor/FastMath.swift), 8 lanes: clamp, x = n·ln2 + r (Cody-Waite), degree-6 Taylor
   polynomial in Horner form, 2^n from the exponent bits; 0 below −87.3, NaN stays NaN. */
__attribute__((target("avx2,fma")))
static inline __m256 exp8(__m256 x) {
    const __m256 lo = _mm256_set1_ps(-87.3f);
    __m256 xc = _mm256_min_ps(_mm256_max_ps(x, lo), _mm256_set1_ps(88.7f));
    __m256 t = _mm256_mul_ps(xc, _mm256_set1_ps(1.4426950409f));
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    __m256 shifted = _mm256_add_ps(t, magic);
    __m256 n = _mm256_sub_ps(shifted, magic);
    __m256 r = _mm256_sub_ps(_mm256_sub_ps(xc, _mm256_mul_ps(n, _mm256_set1_ps(0.693145751953125f))),
                             _mm256_mul_ps(n, _mm256_set1_ps(1.428606765330187e-06f)));
    __m256 p = _mm256_set1_ps(1.0f / 720.0f);
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(0.5f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.0f));
    __m256i ni = _mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_set1_epi32(0x4B400000));
    __m256 scale = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(ni, _mm256_set1_epi32(127)), 23));
    __m256 value = _mm256_andnot_ps(_mm256_cmp_ps(x, lo, _CMP_LT_OQ), _mm256_mul_ps(p, scale));
    return _mm256_blendv_ps(value, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

/* Lab's fastErf: Abramowitz & Stegun 7.1.26 with exp8, odd in x. */
__attribute__((target("avx2,fma")))
static inline __m256 erf8(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    __m256 ax = _mm256_andnot_ps(sign, x);
    __m256 t = _mm256_div_ps(one, _mm256_add_ps(one, _mm256_mul_ps(_mm256_set1_ps(0.3275911f), ax)));
    __m256 p = _mm256_set1_ps(1.061405429f);
    p = _mm256_sub_ps(_mm256_mul_ps(p, t), _mm256_set1_ps(1.453152027f));
    p = _mm256_add_ps(_mm256_mul_ps(p, t), _mm256_set1_ps(1.421413741f));
    p = _mm256_sub_ps(_mm256_mul_ps(p, t), _mm256_set1_ps(0.284496736f));
    p = _mm256_add_ps(_mm256_mul_ps(p, t), _mm256_set1_ps(0.254829592f));
    __m256 e = exp8(_mm256_mul_ps(_mm256_xor_ps(ax, sign), ax));
    __m256 y = _mm256_sub_ps(one, _mm256_mul_ps(_mm256_mul_ps(p, t), e));
    return _mm256_blendv_ps(y, _mm256_xor_ps(y, sign), _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ));
}

__attribute__((target("avx2,fma")))
void lab_gelu_avx2(const float *x, float *y, float *slope, ptrdiff_t n) {
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    const __m256 invSqrt2 = _mm256_set1_ps(0.7071067812f), invSqrt2Pi = _mm256_set1_ps(0.3989422804f);
    const __m256 minusHalf = _mm256_set1_ps(-0.5f);
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 onePlusErf = _mm256_add_ps(one, erf8(_mm256_mul_ps(v, invSqrt2)));
        /* y = 0.5·v·(1 + erf(v/√2)) */
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(half, v), onePlusErf));
        if (slope) {
            /* dy/dx = 0.5·(1 + erf(v/√2)) + v·(1/√(2π))·exp(−0.5·v·v) */
            __m256 cdf = _mm256_mul_ps(half, onePlusErf);
            __m256 density = _mm256_mul_ps(_mm256_mul_ps(v, invSqrt2Pi), exp8(_mm256_mul_ps(_mm256_mul_ps(minusHalf, v), v)));
            _mm256_storeu_ps(slope + i, _mm256_add_ps(cdf, density));
        }
    }
    if (i < n) {  /* the tail through a zero-padded vector: same arithmetic, lane by lane */
        float xs[8] = {0}, ys[8], ss[8];
        for (ptrdiff_t j = 0; j < n - i; j++) xs[j] = x[i + j];
        lab_gelu_avx2(xs, ys, slope ? ss : NULL, 8);
        for (ptrdiff_t j = 0; j < n - i; j++) { y[i + j] = ys[j]; if (slope) slope[i + j] = ss[j]; }
    }
}
