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

/* Lab's fastSigmoid: 1/(1 + fastExp(−x)). */
__attribute__((target("avx2,fma")))
static inline __m256 sigmoid8(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_xor_ps(x, _mm256_set1_ps(-0.0f)))));
}

__attribute__((target("avx2,fma")))
void lab_silu_avx2(const float *x, const float *u, float *y, ptrdiff_t n) {
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 s = _mm256_mul_ps(v, sigmoid8(v));
        _mm256_storeu_ps(y + i, u ? _mm256_mul_ps(s, _mm256_loadu_ps(u + i)) : s);
    }
    if (i < n) {  /* the tail through a zero-padded vector: same arithmetic, lane by lane */
        float xs[8] = {0}, us[8] = {0}, ys[8];
        for (ptrdiff_t j = 0; j < n - i; j++) { xs[j] = x[i + j]; if (u) us[j] = u[i + j]; }
        lab_silu_avx2(xs, u ? us : NULL, ys, 8);
        for (ptrdiff_t j = 0; j < n - i; j++) y[i + j] = ys[j];
    }
}

__attribute__((target("avx2,fma")))
void lab_silu_backward_avx2(const float *x, const float *g, float *dx, ptrdiff_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i), s = sigmoid8(v);
        __m256 slope = _mm256_mul_ps(s, _mm256_add_ps(one, _mm256_mul_ps(v, _mm256_sub_ps(one, s))));
        _mm256_storeu_ps(dx + i, _mm256_mul_ps(_mm256_loadu_ps(g + i), slope));
    }
    if (i < n) {
        float xs[8] = {0}, gs[8] = {0}, ds[8];
        for (ptrdiff_t j = 0; j < n - i; j++) { xs[j] = x[i + j]; gs[j] = g[i + j]; }
        lab_silu_backward_avx2(xs, gs, ds, 8);
        for (ptrdiff_t j = 0; j < n - i; j++) dx[i + j] = ds[j];
    }
}

/* Swift's pointwiseMax(a, b) lane by lane, Float.maximum: a where a > b or b is NaN, else b. */
__attribute__((target("avx2,fma")))
static inline __m256 pointwise_max8(__m256 a, __m256 b) {
    __m256 takeA = _mm256_or_ps(_mm256_cmp_ps(a, b, _CMP_GT_OQ), _mm256_cmp_ps(b, b, _CMP_UNORD_Q));
    return _mm256_blendv_ps(b, a, takeA);
}

__attribute__((target("avx2,fma")))
static inline __m128 pointwise_max4(__m128 a, __m128 b) {
    __m128 takeA = _mm_or_ps(_mm_cmpgt_ps(a, b), _mm_cmpunord_ps(b, b));
    return _mm_blendv_ps(b, a, takeA);
}

/* Swift.max(x, y): y >= x ? y : x. */
static inline float swift_max(float x, float y) { return y >= x ? y : x; }

/* x[i] = exp8((x[i] − m)·scale) in place, 8 at a time, the tail through a padded vector (lanes discarded). */
__attribute__((target("avx2,fma")))
static inline void exp_shifted(float *x, ptrdiff_t n, float m, float scale) {
    const __m256 shift = _mm256_set1_ps(m), factor = _mm256_set1_ps(scale);
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(x + i, exp8(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), shift), factor)));
    if (i < n) {
        float tail[8] = {0};
        for (ptrdiff_t j = 0; j < n - i; j++) tail[j] = x[i + j];
        _mm256_storeu_ps(tail, exp8(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(tail), shift), factor)));
        for (ptrdiff_t j = 0; j < n - i; j++) x[i + j] = tail[j];
    }
}

__attribute__((target("avx2,fma")))
float lab_softmax_avx2(float *x, ptrdiff_t n) {
    /* RowKernels.max: 16 lanes (here the halves of two 8-lane vectors), then the lanes, then the tail. */
    const __m256 minusInf = _mm256_set1_ps(-__builtin_inff());
    __m256 ab = minusInf, cd = minusInf;
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) {
        ab = pointwise_max8(ab, _mm256_loadu_ps(x + i));
        cd = pointwise_max8(cd, _mm256_loadu_ps(x + i + 8));
    }
    __m128 a = _mm256_castps256_ps128(ab), b = _mm256_extractf128_ps(ab, 1);
    __m128 c = _mm256_castps256_ps128(cd), d = _mm256_extractf128_ps(cd, 1);
    __m128 v = pointwise_max4(pointwise_max4(a, b), pointwise_max4(c, d));
    float lanes[4];
    _mm_storeu_ps(lanes, v);
    float m = swift_max(swift_max(lanes[0], lanes[1]), swift_max(lanes[2], lanes[3]));
    for (; i < n; i++) m = swift_max(m, x[i]);
    if (m == -__builtin_inff()) return m;

    /* RowKernels.expShifted: x[i] = fastExp(x[i] − m) ((x − m)·1 is exact). */
    exp_shifted(x, n, m, 1.0f);

    /* RowKernels.sum: four 4-lane accumulators a, b, c, d (here [a|b] and [c|d]), (a + b) + (c + d), then
       (v0 + v1) + (v2 + v3), then the tail one by one. */
    __m256 sab = _mm256_setzero_ps(), scd = _mm256_setzero_ps();
    for (i = 0; i + 16 <= n; i += 16) {
        sab = _mm256_add_ps(sab, _mm256_loadu_ps(x + i));
        scd = _mm256_add_ps(scd, _mm256_loadu_ps(x + i + 8));
    }
    __m128 sum4 = _mm_add_ps(_mm_add_ps(_mm256_castps256_ps128(sab), _mm256_extractf128_ps(sab, 1)),
                             _mm_add_ps(_mm256_castps256_ps128(scd), _mm256_extractf128_ps(scd, 1)));
    _mm_storeu_ps(lanes, sum4);
    float total = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (; i < n; i++) total += x[i];

    /* RowKernels.scale by 1/total. */
    const float inverse = 1.0f / total;
    const __m256 s = _mm256_set1_ps(inverse);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), s));
    for (; i < n; i++) x[i] *= inverse;
    return m;
}

__attribute__((target("avx2,fma")))
void lab_softmax_scaled_avx2(float *x, ptrdiff_t n, ptrdiff_t width, float scale) {
    float m = -__builtin_inff();
    for (ptrdiff_t i = 0; i < n; i++) m = swift_max(m, x[i]);
    exp_shifted(x, n, m, scale);
    float total = 0;
    ptrdiff_t i = 0;
    for (; i < n; i++) total += x[i];
    const float inverse = 1.0f / total;
    const __m256 s = _mm256_set1_ps(inverse);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), s));
    for (; i < n; i++) x[i] *= inverse;
    for (i = n; i < width; i++) x[i] = 0;
}

__attribute__((target("avx2,fma")))
void lab_adam_avx2(float *w, const float *g, float *m, float *v, ptrdiff_t n, float l2, float beta1, float oneMinusBeta1,
                   float beta2, float oneMinusBeta2, float c2, float shrink, float step, float epsilon) {
    const __m256 vl2 = _mm256_set1_ps(l2), vb1 = _mm256_set1_ps(beta1), va1 = _mm256_set1_ps(oneMinusBeta1);
    const __m256 vb2 = _mm256_set1_ps(beta2), va2 = _mm256_set1_ps(oneMinusBeta2), vc2 = _mm256_set1_ps(c2);
    const __m256 vshrink = _mm256_set1_ps(shrink), vstep = _mm256_set1_ps(step), veps = _mm256_set1_ps(epsilon);
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 wi = _mm256_loadu_ps(w + i);
        __m256 gi = _mm256_add_ps(_mm256_loadu_ps(g + i), _mm256_mul_ps(vl2, wi));
        __m256 mn = _mm256_add_ps(_mm256_mul_ps(vb1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(va1, gi));
        __m256 vn = _mm256_add_ps(_mm256_mul_ps(vb2, _mm256_loadu_ps(v + i)), _mm256_mul_ps(_mm256_mul_ps(va2, gi), gi));
        _mm256_storeu_ps(m + i, mn);
        _mm256_storeu_ps(v + i, vn);
        __m256 denominator = _mm256_add_ps(_mm256_sqrt_ps(_mm256_mul_ps(vn, vc2)), veps);
        _mm256_storeu_ps(w + i, _mm256_sub_ps(_mm256_mul_ps(vshrink, wi), _mm256_div_ps(_mm256_mul_ps(vstep, mn), denominator)));
    }
    for (; i < n; i++) {
        float gi = g[i] + l2 * w[i];
        float mn = beta1 * m[i] + oneMinusBeta1 * gi;
        float vn = beta2 * v[i] + oneMinusBeta2 * gi * gi;
        m[i] = mn;
        v[i] = vn;
        w[i] = shrink * w[i] - step * mn / (__builtin_sqrtf(vn * c2) + epsilon);
    }
}

/* dst[0..<n] = src[0..<n] 8 lanes at a time; a partial last vector is stored overlapping the previous one. */
__attribute__((target("avx2,fma")))
static inline void copy_row(float *dst, const float *src, ptrdiff_t n) {
    if (n < 8) {
        for (ptrdiff_t k = 0; k < n; k++) dst[k] = src[k];
        return;
    }
    ptrdiff_t k = 0;
    for (; k + 8 <= n; k += 8) _mm256_storeu_ps(dst + k, _mm256_loadu_ps(src + k));
    if (k < n) _mm256_storeu_ps(dst + n - 8, _mm256_loadu_ps(src + n - 8));
}

/* [lo, hi): the output columns ox (of outW) whose input column ox − padW + j lies inside 0..<width. */
static inline void inside_columns(ptrdiff_t width, ptrdiff_t padW, ptrdiff_t j, ptrdiff_t outW, ptrdiff_t *lo, ptrdiff_t *hi) {
    *lo = padW - j > 0 ? padW - j : 0;
    *hi = width + padW - j < outW ? width + padW - j : outW;
    if (*lo > outW) *lo = outW;
    if (*hi < *lo) *hi = *lo;
}

__attribute__((target("avx2,fma")))
void lab_im2col_plane_stride1(const float *plane, ptrdiff_t height, ptrdiff_t width, ptrdiff_t kernelH,
                              ptrdiff_t kernelW, ptrdiff_t strideH, ptrdiff_t padH, ptrdiff_t padW, ptrdiff_t outH,
                              ptrdiff_t outW, ptrdiff_t rowStride, float *cols) {
    for (ptrdiff_t i = 0; i < kernelH; i++) {
        for (ptrdiff_t j = 0; j < kernelW; j++) {
            ptrdiff_t lo, hi;
            inside_columns(width, padW, j, outW, &lo, &hi);
            float *dst = cols + (i * kernelW + j) * rowStride;
            for (ptrdiff_t oy = 0; oy < outH; oy++, dst += outW) {
                ptrdiff_t iy = oy * strideH - padH + i;
                if (iy < 0 || iy >= height) {
                    for (ptrdiff_t ox = 0; ox < outW; ox++) dst[ox] = 0;
                    continue;
                }
                const float *row = plane + iy * width - padW + j;
                for (ptrdiff_t ox = 0; ox < lo; ox++) dst[ox] = 0;
                copy_row(dst + lo, row + lo, hi - lo);
                for (ptrdiff_t ox = hi; ox < outW; ox++) dst[ox] = 0;
            }
        }
    }
}

__attribute__((target("avx2,fma")))
void lab_col2im_plane_stride1(const float *cols, ptrdiff_t height, ptrdiff_t width, ptrdiff_t kernelH,
                              ptrdiff_t kernelW, ptrdiff_t strideH, ptrdiff_t padH, ptrdiff_t padW, ptrdiff_t outH,
                              ptrdiff_t outW, ptrdiff_t rowStride, float *plane) {
    for (ptrdiff_t i = 0; i < kernelH; i++) {
        for (ptrdiff_t j = 0; j < kernelW; j++) {
            ptrdiff_t lo, hi;
            inside_columns(width, padW, j, outW, &lo, &hi);
            const float *src = cols + (i * kernelW + j) * rowStride;
            for (ptrdiff_t oy = 0; oy < outH; oy++, src += outW) {
                ptrdiff_t iy = oy * strideH - padH + i;
                if (iy < 0 || iy >= height) continue;
                float *row = plane + iy * width - padW + j;
                ptrdiff_t ox = lo;
                for (; ox + 8 <= hi; ox += 8)
                    _mm256_storeu_ps(row + ox, _mm256_add_ps(_mm256_loadu_ps(row + ox), _mm256_loadu_ps(src + ox)));
                for (; ox < hi; ox++) row[ox] += src[ox];
            }
        }
    }
}
