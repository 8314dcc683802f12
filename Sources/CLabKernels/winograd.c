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

/* Tiles per plane: th×tw for an Ho×Wo output. */
static inline ptrdiff_t tilesAlong(ptrdiff_t out) { return (out + 1) / 2; }

LAB_CLONES
void lab_winograd_input_2x3(const float *x, ptrdiff_t channels, ptrdiff_t height, ptrdiff_t width, ptrdiff_t pad,
                            ptrdiff_t planeBegin, ptrdiff_t planeEnd, ptrdiff_t tiles, float *v) {
    const ptrdiff_t th = tilesAlong(height + 2 * pad - 2), tw = tilesAlong(width + 2 * pad - 2);
    const ptrdiff_t wp = 2 * tw + 2;  /* a padded input row: column col holds x[·, col − pad] */
    float *rows = malloc(sizeof(float) * 8 * (size_t)wp);
    float *d[4] = {rows, rows + wp, rows + 2 * wp, rows + 3 * wp};
    float *r[4] = {rows + 4 * wp, rows + 5 * wp, rows + 6 * wp, rows + 7 * wp};
    for (ptrdiff_t q = planeBegin; q < planeEnd; q++) {
        const ptrdiff_t b = q / channels, c = q % channels;
        const float *plane = x + q * height * width;
        for (ptrdiff_t ty = 0; ty < th; ty++) {
            for (int k = 0; k < 4; k++) {
                const ptrdiff_t iy = 2 * ty - pad + k;
                if (iy < 0 || iy >= height) { memset(d[k], 0, sizeof(float) * (size_t)wp); continue; }
                memset(d[k], 0, sizeof(float) * (size_t)pad);
                memcpy(d[k] + pad, plane + iy * width, sizeof(float) * (size_t)width);
                memset(d[k] + pad + width, 0, sizeof(float) * (size_t)(wp - pad - width));
            }
            /* Bᵀ d: the rows of the tile row, combined over the whole padded width. */
            for (ptrdiff_t k = 0; k < wp; k++) {
                const float d0 = d[0][k], d1 = d[1][k], d2 = d[2][k], d3 = d[3][k];
                r[0][k] = d0 - d2; r[1][k] = d1 + d2; r[2][k] = d2 - d1; r[3][k] = d1 - d3;
            }
            /* (Bᵀ d) B: the columns of each tile. */
            const ptrdiff_t t0 = b * th * tw + ty * tw;
            for (int i = 0; i < 4; i++) {
                const float *restrict s = r[i];
                float *restrict o0 = v + ((4 * i + 0) * channels + c) * tiles + t0;
                float *restrict o1 = v + ((4 * i + 1) * channels + c) * tiles + t0;
                float *restrict o2 = v + ((4 * i + 2) * channels + c) * tiles + t0;
                float *restrict o3 = v + ((4 * i + 3) * channels + c) * tiles + t0;
                for (ptrdiff_t tx = 0; tx < tw; tx++) {
                    const float a0 = s[2 * tx], a1 = s[2 * tx + 1], a2 = s[2 * tx + 2], a3 = s[2 * tx + 3];
                    o0[tx] = a0 - a2; o1[tx] = a1 + a2; o2[tx] = a2 - a1; o3[tx] = a1 - a3;
                }
            }
        }
    }
    free(rows);
}

LAB_CLONES
void lab_winograd_input_adjoint_2x3(const float *dv, ptrdiff_t channels, ptrdiff_t height, ptrdiff_t width,
                                    ptrdiff_t pad, ptrdiff_t planeBegin, ptrdiff_t planeEnd, ptrdiff_t tiles,
                                    float *dx) {
    const ptrdiff_t th = tilesAlong(height + 2 * pad - 2), tw = tilesAlong(width + 2 * pad - 2);
    const ptrdiff_t wp = 2 * tw + 2;
    /* 4 accumulating padded rows (padded row R in ring slot R mod 4) and the 16 transformed columns of a tile row. */
    float *acc = malloc(sizeof(float) * (4 * (size_t)wp + 16 * (size_t)tw));
    float *w = acc + 4 * wp;
    for (ptrdiff_t q = planeBegin; q < planeEnd; q++) {
        const ptrdiff_t b = q / channels, c = q % channels;
        float *plane = dx + q * height * width;
        memset(acc, 0, sizeof(float) * 4 * (size_t)wp);
        for (ptrdiff_t ty = 0; ty <= th; ty++) {
            if (ty < th) {
                /* B dV Bᵀ per tile: rows u = B·dV (u0 = v0, u1 = v1 − v2 + v3, u2 = v1 + v2 − v0, u3 = −v3),
                   then the same over the columns of each u. */
                const ptrdiff_t t0 = b * th * tw + ty * tw;
                const float *vp[16];
                for (int k = 0; k < 16; k++) vp[k] = dv + (k * channels + c) * tiles + t0;
                for (ptrdiff_t tx = 0; tx < tw; tx++) {
                    float u[4][4];
                    for (int j = 0; j < 4; j++) {
                        const float v0 = vp[j][tx], v1 = vp[4 + j][tx], v2 = vp[8 + j][tx], v3 = vp[12 + j][tx];
                        u[0][j] = v0; u[1][j] = (v1 - v2) + v3; u[2][j] = (v1 + v2) - v0; u[3][j] = -v3;
                    }
                    for (int i = 0; i < 4; i++) {
                        w[(4 * i + 0) * tw + tx] = u[i][0];
                        w[(4 * i + 1) * tw + tx] = (u[i][1] - u[i][2]) + u[i][3];
                        w[(4 * i + 2) * tw + tx] = (u[i][1] + u[i][2]) - u[i][0];
                        w[(4 * i + 3) * tw + tx] = -u[i][3];
                    }
                }
                /* Tile tx covers padded columns 2tx ... 2tx + 3: column 2k gets w0 of tile k and w2 of tile k − 1. */
                for (int i = 0; i < 4; i++) {
                    float *restrict row = acc + ((2 * ty + i) & 3) * wp;
                    const float *restrict w0 = w + (4 * i) * tw, *restrict w1 = w0 + tw, *restrict w2 = w1 + tw,
                                *restrict w3 = w2 + tw;
                    row[0] += w0[0]; row[1] += w1[0];
                    for (ptrdiff_t k = 1; k < tw; k++) {
                        row[2 * k] += w0[k] + w2[k - 1];
                        row[2 * k + 1] += w1[k] + w3[k - 1];
                    }
                    row[2 * tw] += w2[tw - 1]; row[2 * tw + 1] += w3[tw - 1];
                }
            }
            /* Padded rows 2ty and 2ty + 1 are complete: add their inside to dx, then clear their slots for
               rows 2ty + 4 and 2ty + 5. */
            for (int k = 0; k < 2; k++) {
                const ptrdiff_t iy = 2 * ty + k - pad;
                float *restrict row = acc + ((2 * ty + k) & 3) * wp;
                if (iy >= 0 && iy < height) {
                    float *restrict out = plane + iy * width;
                    for (ptrdiff_t ix = 0; ix < width; ix++) out[ix] += row[ix + pad];
                }
                memset(row, 0, sizeof(float) * (size_t)wp);
            }
        }
    }
    free(acc);
}

LAB_CLONES
void lab_winograd_output_2x3(const float *m, ptrdiff_t filters, ptrdiff_t outH, ptrdiff_t outW,
                             ptrdiff_t planeBegin, ptrdiff_t planeEnd, ptrdiff_t tiles, const float *bias, float *y) {
    const ptrdiff_t th = tilesAlong(outH), tw = tilesAlong(outW);
    float *rows = malloc(sizeof(float) * 4 * (size_t)tw);
    float *restrict y0 = rows, *restrict y1 = rows + 2 * tw;
    for (ptrdiff_t q = planeBegin; q < planeEnd; q++) {
        const ptrdiff_t b = q / filters, f = q % filters;
        const float bf = bias ? bias[f] : 0.0f;
        float *plane = y + q * outH * outW;
        for (ptrdiff_t ty = 0; ty < th; ty++) {
            const ptrdiff_t t0 = b * th * tw + ty * tw;
            const float *mp[16];
            for (int k = 0; k < 16; k++) mp[k] = m + (k * filters + f) * tiles + t0;
            for (ptrdiff_t tx = 0; tx < tw; tx++) {
                /* Aᵀ M: r0 = m0 + m1 + m2, r1 = m1 − m2 − m3 over the rows; then the same over the columns. */
                float r0[4], r1[4];
                for (int j = 0; j < 4; j++) {
                    const float m0 = mp[j][tx], m1 = mp[4 + j][tx], m2 = mp[8 + j][tx], m3 = mp[12 + j][tx];
                    r0[j] = (m0 + m1) + m2; r1[j] = (m1 - m2) - m3;
                }
                y0[2 * tx] = bf + ((r0[0] + r0[1]) + r0[2]); y0[2 * tx + 1] = bf + ((r0[1] - r0[2]) - r0[3]);
                y1[2 * tx] = bf + ((r1[0] + r1[1]) + r1[2]); y1[2 * tx + 1] = bf + ((r1[1] - r1[2]) - r1[3]);
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
    const ptrdiff_t th = tilesAlong(outH), tw = tilesAlong(outW);
    float *rows = malloc(sizeof(float) * 2 * 2 * (size_t)tw);  /* two output rows, zero past Wo and Ho */
    float *restrict d0 = rows, *restrict d1 = rows + 2 * tw;
    for (ptrdiff_t q = planeBegin; q < planeEnd; q++) {
        const ptrdiff_t b = q / filters, f = q % filters;
        const float *plane = dy + q * outH * outW;
        for (ptrdiff_t ty = 0; ty < th; ty++) {
            memset(rows, 0, sizeof(float) * 4 * (size_t)tw);
            memcpy(d0, plane + 2 * ty * outW, sizeof(float) * (size_t)outW);
            if (2 * ty + 1 < outH) memcpy(d1, plane + (2 * ty + 1) * outW, sizeof(float) * (size_t)outW);
            const ptrdiff_t t0 = b * th * tw + ty * tw;
            float *mp[16];
            for (int k = 0; k < 16; k++) mp[k] = dm + (k * filters + f) * tiles + t0;
            for (ptrdiff_t tx = 0; tx < tw; tx++) {
                /* A dY: s0 = d0, s1 = d0 + d1, s2 = d0 − d1, s3 = −d1 over the rows; then the same over the columns. */
                const float a0 = d0[2 * tx], a1 = d0[2 * tx + 1], c0 = d1[2 * tx], c1 = d1[2 * tx + 1];
                const float s[4][2] = {{a0, a1}, {a0 + c0, a1 + c1}, {a0 - c0, a1 - c1}, {-c0, -c1}};
                for (int i = 0; i < 4; i++) {
                    mp[4 * i + 0][tx] = s[i][0];
                    mp[4 * i + 1][tx] = s[i][0] + s[i][1];
                    mp[4 * i + 2][tx] = s[i][0] - s[i][1];
                    mp[4 * i + 3][tx] = -s[i][1];
                }
            }
        }
    }
    free(rows);
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
