#include "winograd.h"
#include <stdlib.h>
#include <string.h>

/* Each product and sum is its own IEEE operation in the order written (no FMA contraction), so the AVX2 clone
   and the baseline clone of each function give the same bits. */
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

/* One copy of each loop for AVX2 and one for the baseline x86-64, picked at load time. */
#if defined(__x86_64__)
#define LAB_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define LAB_CLONES
#endif

/* The loops run over 8 tiles of a tile row at a time (v8: 8 floats, unaligned). A tile row's last group may
   run past its tw tiles: the extra lanes read the slack that every buffer below (and the callers' scratch, see
   winograd.h) carries, their results are discarded or masked to 0, and nothing past a plane is written. */
typedef float v8 __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));

/* Macros, not functions: a function taking or returning v8 would have a different ABI in the two clones. */
#define load8(p) ({ v8 v_; memcpy(&v_, (p), sizeof v_); v_; })
#define store8(p, v) do { v8 s_ = (v); memcpy((p), &s_, sizeof s_); } while (0)
#define splat8(x) ((v8){(x), (x), (x), (x), (x), (x), (x), (x)})
/* Lanes 2k and 2k + 1 of the 16 floats at p. */
#define evens(p) __builtin_shufflevector(load8(p), load8((p) + 8), 0, 2, 4, 6, 8, 10, 12, 14)
#define odds(p) __builtin_shufflevector(load8(p), load8((p) + 8), 1, 3, 5, 7, 9, 11, 13, 15)
/* The 16 floats a0 b0 a1 b1 ... a7 b7 of the lanes of a and b. */
#define interleavedLow(a, b) __builtin_shufflevector((a), (b), 0, 8, 1, 9, 2, 10, 3, 11)
#define interleavedHigh(a, b) __builtin_shufflevector((a), (b), 4, 12, 5, 13, 6, 14, 7, 15)
#define storeInterleaved(p, a, b) do { store8((p), interleavedLow(a, b)); store8((p) + 8, interleavedHigh(a, b)); } while (0)
#define addInterleaved(p, a, b) do { \
        store8((p), load8(p) + interleavedLow(a, b)); store8((p) + 8, load8((p) + 8) + interleavedHigh(a, b)); } while (0)

/* Stores the first n ≤ 8 lanes of v at p: the last group of a plane's last tile row, whose other lanes would
   land in another plane's tiles. */
#define storeFirst(p, v, n) do { float l_[8]; store8(l_, (v)); for (ptrdiff_t k_ = 0; k_ < (n); k_++) (p)[k_] = l_[k_]; } while (0)
/* Stores a group of 8 tiles at tile tx of a tile row that starts at tile `rowStart` of its plane's tp tiles and
   has tw tiles: whole when all 8 lanes stay inside the plane (lanes past the row land in later tile rows'
   slots, which those rows then overwrite), else only the lanes inside the row. */
#define storeTiles(p, v, tx, tw, rowStart, tp) do { \
        if ((rowStart) + (tx) + 8 <= (tp)) store8((p) + (tx), (v)); else storeFirst((p) + (tx), (v), (tw) - (tx)); } while (0)

/* Tiles along an output extent. */
static inline ptrdiff_t tilesAlong(ptrdiff_t out) { return (out + 1) / 2; }
/* tw rounded up to whole groups of 8 tiles. */
static inline ptrdiff_t groupsOf8(ptrdiff_t tw) { return (tw + 7) / 8 * 8; }

LAB_CLONES
void lab_winograd_input_2x3(const float *x, ptrdiff_t channels, ptrdiff_t height, ptrdiff_t width, ptrdiff_t pad,
                            ptrdiff_t planeBegin, ptrdiff_t planeEnd, ptrdiff_t tiles, float *v) {
    const ptrdiff_t th = tilesAlong(height + 2 * pad - 2), tw = tilesAlong(width + 2 * pad - 2), tp = th * tw;
    const ptrdiff_t wp = 2 * groupsOf8(tw) + 8;  /* a padded input row: column col holds x[·, col − pad] */
    /* 4 padded input rows, a zero row, 4 row-transformed rows. */
    float *buffer = calloc((size_t)(9 * wp), sizeof(float));
    float *d[4] = {buffer, buffer + wp, buffer + 2 * wp, buffer + 3 * wp}, *zero = buffer + 4 * wp;
    float *r[4] = {buffer + 5 * wp, buffer + 6 * wp, buffer + 7 * wp, buffer + 8 * wp};
    for (ptrdiff_t q = planeBegin; q < planeEnd; q++) {
        const ptrdiff_t b = q / channels, c = q % channels;
        const float *plane = x + q * height * width;
        for (ptrdiff_t ty = 0; ty < th; ty++) {
            const float *row[4];
            for (int k = 0; k < 4; k++) {  /* columns outside [pad, pad + W) stay 0 from calloc */
                const ptrdiff_t iy = 2 * ty - pad + k;
                if (iy < 0 || iy >= height) { row[k] = zero; continue; }
                for (ptrdiff_t ix = 0; ix < width; ix++) d[k][pad + ix] = plane[iy * width + ix];
                row[k] = d[k];
            }
            /* Bᵀ d: the rows of the tile row, combined over the whole padded width. */
            for (ptrdiff_t k = 0; k < wp; k += 8) {
                const v8 d0 = load8(row[0] + k), d1 = load8(row[1] + k), d2 = load8(row[2] + k), d3 = load8(row[3] + k);
                store8(r[0] + k, d0 - d2); store8(r[1] + k, d1 + d2); store8(r[2] + k, d2 - d1); store8(r[3] + k, d1 - d3);
            }
            /* (Bᵀ d) B: the columns of each tile, 8 tiles at a time. */
            const ptrdiff_t t0 = b * tp + ty * tw;
            for (int i = 0; i < 4; i++) {
                float *o0 = v + ((4 * i + 0) * channels + c) * tiles + t0, *o1 = v + ((4 * i + 1) * channels + c) * tiles + t0;
                float *o2 = v + ((4 * i + 2) * channels + c) * tiles + t0, *o3 = v + ((4 * i + 3) * channels + c) * tiles + t0;
                for (ptrdiff_t tx = 0; tx < tw; tx += 8) {
                    const float *s = r[i] + 2 * tx;
                    const v8 a0 = evens(s), a1 = odds(s), a2 = evens(s + 2), a3 = odds(s + 2);
                    storeTiles(o0, a0 - a2, tx, tw, ty * tw, tp); storeTiles(o1, a1 + a2, tx, tw, ty * tw, tp);
                    storeTiles(o2, a2 - a1, tx, tw, ty * tw, tp); storeTiles(o3, a1 - a3, tx, tw, ty * tw, tp);
                }
            }
        }
    }
    free(buffer);
}

LAB_CLONES
void lab_winograd_input_adjoint_2x3(const float *dv, ptrdiff_t channels, ptrdiff_t height, ptrdiff_t width,
                                    ptrdiff_t pad, ptrdiff_t planeBegin, ptrdiff_t planeEnd, ptrdiff_t tiles,
                                    float *dx) {
    const ptrdiff_t th = tilesAlong(height + 2 * pad - 2), tw = tilesAlong(width + 2 * pad - 2), tp = th * tw;
    const ptrdiff_t wp = 2 * groupsOf8(tw) + 8;
    /* 4 accumulating padded rows: padded row R in slot R mod 4. */
    float *acc = calloc((size_t)(4 * wp), sizeof(float));
    const v8i lane = {0, 1, 2, 3, 4, 5, 6, 7};
    for (ptrdiff_t q = planeBegin; q < planeEnd; q++) {
        const ptrdiff_t b = q / channels, c = q % channels;
        float *plane = dx + q * height * width;
        for (ptrdiff_t ty = 0; ty <= th; ty++) {
            if (ty < th) {
                const ptrdiff_t t0 = b * tp + ty * tw;
                const float *vp[16];
                for (int k = 0; k < 16; k++) vp[k] = dv + (k * channels + c) * tiles + t0;
                for (ptrdiff_t tx = 0; tx < tw; tx += 8) {
                    /* Lanes past the tile row (they read the next row's or the slack's values) count 0. */
                    const v8i keep = (lane + (int)tx) < (int)tw;
                    /* B dV Bᵀ per tile: rows u = B·dV (u0 = v0, u1 = v1 − v2 + v3, u2 = v1 + v2 − v0, u3 = −v3),
                       then the same over the columns of each u. */
                    v8 u[4][4];
                    for (int j = 0; j < 4; j++) {
                        const v8 v0 = load8(vp[j] + tx), v1 = load8(vp[4 + j] + tx);
                        const v8 v2 = load8(vp[8 + j] + tx), v3 = load8(vp[12 + j] + tx);
                        u[0][j] = v0; u[1][j] = (v1 - v2) + v3; u[2][j] = (v1 + v2) - v0; u[3][j] = -v3;
                    }
                    for (int i = 0; i < 4; i++) {
                        const v8 w0 = (v8)((v8i)u[i][0] & keep);
                        const v8 w1 = (v8)((v8i)((u[i][1] - u[i][2]) + u[i][3]) & keep);
                        const v8 w2 = (v8)((v8i)((u[i][1] + u[i][2]) - u[i][0]) & keep);
                        const v8 w3 = (v8)((v8i)(-u[i][3]) & keep);
                        /* Tile tx covers padded columns 2tx ... 2tx + 3. */
                        float *row = acc + ((2 * ty + i) & 3) * wp + 2 * tx;
                        addInterleaved(row, w0, w1);
                        addInterleaved(row + 2, w2, w3);
                    }
                }
            }
            /* Padded rows 2ty and 2ty + 1 are complete: add their inside to dx, then clear their slots for
               rows 2ty + 4 and 2ty + 5. */
            for (int k = 0; k < 2; k++) {
                const ptrdiff_t iy = 2 * ty + k - pad;
                float *row = acc + ((2 * ty + k) & 3) * wp;
                if (iy >= 0 && iy < height) {
                    float *out = plane + iy * width;
                    for (ptrdiff_t ix = 0; ix < width; ix++) out[ix] += row[ix + pad];
                }
                for (ptrdiff_t col = 0; col < wp; col += 8) store8(row + col, splat8(0));
            }
        }
    }
    free(acc);
}

LAB_CLONES
void lab_winograd_output_2x3(const float *m, ptrdiff_t filters, ptrdiff_t outH, ptrdiff_t outW,
                             ptrdiff_t planeBegin, ptrdiff_t planeEnd, ptrdiff_t tiles, const float *bias, float *y) {
    const ptrdiff_t th = tilesAlong(outH), tw = tilesAlong(outW), tp = th * tw;
    float *rows = malloc(sizeof(float) * 4 * (size_t)groupsOf8(tw));
    float *y0 = rows, *y1 = rows + 2 * groupsOf8(tw);
    for (ptrdiff_t q = planeBegin; q < planeEnd; q++) {
        const ptrdiff_t b = q / filters, f = q % filters;
        const v8 bf = splat8(bias ? bias[f] : 0.0f);
        float *plane = y + q * outH * outW;
        for (ptrdiff_t ty = 0; ty < th; ty++) {
            const ptrdiff_t t0 = b * tp + ty * tw;
            const float *mp[16];
            for (int k = 0; k < 16; k++) mp[k] = m + (k * filters + f) * tiles + t0;
            for (ptrdiff_t tx = 0; tx < tw; tx += 8) {
                /* Aᵀ M: r0 = m0 + m1 + m2, r1 = m1 − m2 − m3 over the rows; then the same over the columns. */
                v8 r0[4], r1[4];
                for (int j = 0; j < 4; j++) {
                    const v8 m0 = load8(mp[j] + tx), m1 = load8(mp[4 + j] + tx), m2 = load8(mp[8 + j] + tx),
                             m3 = load8(mp[12 + j] + tx);
                    r0[j] = (m0 + m1) + m2; r1[j] = (m1 - m2) - m3;
                }
                storeInterleaved(y0 + 2 * tx, bf + ((r0[0] + r0[1]) + r0[2]), bf + ((r0[1] - r0[2]) - r0[3]));
                storeInterleaved(y1 + 2 * tx, bf + ((r1[0] + r1[1]) + r1[2]), bf + ((r1[1] - r1[2]) - r1[3]));
            }
            memcpy(plane + 2 * ty * outW, y0, sizeof(float) * (size_t)outW);
            if (2 * ty + 1 < outH) memcpy(plane + (2 * ty + 1) * outW, y1, sizeof(float) * (size_t)outW);
        }
    }
    free(rows);
}

LAB_CLONES
void lab_winograd_output_adjoint_2x3(const float *dy, ptrdiff_t filters, ptrdiff_t outH, ptrdiff_t outW,
                                     ptrdiff_t planeBegin, ptrdiff_t planeEnd, ptrdiff_t tiles, float *dm) {
    const ptrdiff_t th = tilesAlong(outH), tw = tilesAlong(outW), tp = th * tw, wp = 2 * groupsOf8(tw);
    /* Two output rows (0 past Wo) and a zero row (past Ho). */
    float *buffer = calloc((size_t)(3 * wp), sizeof(float));
    float *d0 = buffer, *d1 = buffer + wp, *zero = buffer + 2 * wp;
    for (ptrdiff_t q = planeBegin; q < planeEnd; q++) {
        const ptrdiff_t b = q / filters, f = q % filters;
        const float *plane = dy + q * outH * outW;
        for (ptrdiff_t ty = 0; ty < th; ty++) {
            memcpy(d0, plane + 2 * ty * outW, sizeof(float) * (size_t)outW);
            const float *second = zero;
            if (2 * ty + 1 < outH) { memcpy(d1, plane + (2 * ty + 1) * outW, sizeof(float) * (size_t)outW); second = d1; }
            const ptrdiff_t t0 = b * tp + ty * tw;
            float *mp[16];
            for (int k = 0; k < 16; k++) mp[k] = dm + (k * filters + f) * tiles + t0;
            for (ptrdiff_t tx = 0; tx < tw; tx += 8) {
                /* A dY: s0 = d0, s1 = d0 + d1, s2 = d0 − d1, s3 = −d1 over the rows; then the same over the columns. */
                const v8 a0 = evens(d0 + 2 * tx), a1 = odds(d0 + 2 * tx), c0 = evens(second + 2 * tx), c1 = odds(second + 2 * tx);
                const v8 s[4][2] = {{a0, a1}, {a0 + c0, a1 + c1}, {a0 - c0, a1 - c1}, {-c0, -c1}};
                for (int i = 0; i < 4; i++) {
                    storeTiles(mp[4 * i + 0], s[i][0], tx, tw, ty * tw, tp);
                    storeTiles(mp[4 * i + 1], s[i][0] + s[i][1], tx, tw, ty * tw, tp);
                    storeTiles(mp[4 * i + 2], s[i][0] - s[i][1], tx, tw, ty * tw, tp);
                    storeTiles(mp[4 * i + 3], -s[i][1], tx, tw, ty * tw, tp);
                }
            }
        }
    }
    free(buffer);
}
void lab_winograd_kernel_2x3(const float *w, ptrdiff_t count, float *u) {
    for (ptrdiff_t k = 0; k < count; k++) {
        const float *g = w + 9 * k;
        float h[4][3];  /* G g: h0 = g0, h1 = ½(g0 + g1 + g2), h2 = ½(g0 − g1 + g2), h3 = g2 (rows) */
        for (int j = 0; j < 3; j++) {
            h[0][j] = g[j];
            h[1][j] = ((g[j] + g[3 + j]) + g[6 + j]) * 0.5f;
            h[2][j] = ((g[j] - g[3 + j]) + g[6 + j]) * 0.5f;
            h[3][j] = g[6 + j];
        }
        for (int i = 0; i < 4; i++) {  /* (G g) Gᵀ: the same over the columns */
            u[(4 * i + 0) * count + k] = h[i][0];
            u[(4 * i + 1) * count + k] = ((h[i][0] + h[i][1]) + h[i][2]) * 0.5f;
            u[(4 * i + 2) * count + k] = ((h[i][0] - h[i][1]) + h[i][2]) * 0.5f;
            u[(4 * i + 3) * count + k] = h[i][2];
        }
    }
}

void lab_winograd_kernel_adjoint_2x3(const float *du, ptrdiff_t count, float *dw) {
    for (ptrdiff_t k = 0; k < count; k++) {
        float e[3][4];  /* Gᵀ dU: e0 = d0 + ½(d1 + d2), e1 = ½(d1 − d2), e2 = ½(d1 + d2) + d3 (rows) */
        for (int j = 0; j < 4; j++) {
            const float d0 = du[(0 + j) * count + k], d1 = du[(4 + j) * count + k];
            const float d2 = du[(8 + j) * count + k], d3 = du[(12 + j) * count + k];
            e[0][j] = d0 + (d1 + d2) * 0.5f; e[1][j] = (d1 - d2) * 0.5f; e[2][j] = (d1 + d2) * 0.5f + d3;
        }
        float *g = dw + 9 * k;
        for (int i = 0; i < 3; i++) {  /* (Gᵀ dU) G: the same over the columns */
            g[3 * i + 0] += e[i][0] + (e[i][1] + e[i][2]) * 0.5f;
            g[3 * i + 1] += (e[i][1] - e[i][2]) * 0.5f;
            g[3 * i + 2] += (e[i][1] + e[i][2]) * 0.5f + e[i][3];
        }
    }
}
