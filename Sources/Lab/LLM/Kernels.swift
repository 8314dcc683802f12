import CBLAS
import CLabKernels
import CLLMKernels
import Foundation
import Lab

/// Inference kernels of the Llama forward on raw row-major Float32 buffers. Lab's general Tensor ops were still
/// being written when this room was built, so these are private tight loops (vectorisable, no allocation);
/// matrix products go through Lab's `sgemm` (split over Lab's threads; OpenBLAS runs single-threaded), except the
/// chunked prefill attention's, which use LabLLM's panel kernel (`panelProductOnThisThread`).
enum LLMKernels {
    /// C[m, n] = alpha · A[m, k] · B[n, k]ᵀ + beta · C (row-major with leading dimensions): the `x Wᵀ` of a linear
    /// layer whose weight is stored [out, in].
    @inline(__always)
    static func matmulTransposedB(_ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                                  _ c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int,
                                  alpha: Float = 1, beta: Float = 0) {
        if m == 1 {  // one row (a decode step): a matrix-vector product, c = B a
            Parallel.prepareBLAS()
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), alpha, b, Int32(ldb), a, 1, beta, c, 1)
            return
        }
        sgemm(a, b, c, m: m, n: n, k: k, transB: true, alpha: alpha, beta: beta, lda: lda, ldb: ldb, ldc: ldc)
    }

    /// C[m, n] = A[m, k] · op(B) on the calling thread with LabLLM's panel kernel (`llm_gemm_panel`: each output
    /// one chain of fused multiply-adds in k order, the same bits on AVX-512, AVX2 and C), op(B) packed into strips
    /// in `panel` first (scratch of `panelFloats(n:k:)` floats). op(B) = Bᵀ (B stored [n, k]) when transB.
    @inline(__always)
    static func panelProductOnThisThread(_ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int, transB: Bool,
                                         _ c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int,
                                         panel: UnsafeMutablePointer<Float>) {
        llm_pack_strips(b, Int32(ldb), transB ? 1 : 0, Int32(k), Int32(n), panel)
        llm_gemm_panel(Int32(QuantizedMatrix.gemmLevel), a, Int32(lda), Int32(m), Int32(k), panel, Int32(panelStrips(n: n)),
                       Int32(n), c, Int32(ldc), 0)
    }

    /// The strips of `LLM_GEMM_STRIP` (32) columns that hold n columns of op(B).
    static func panelStrips(n: Int) -> Int { (n + Int(LLM_GEMM_STRIP) - 1) / Int(LLM_GEMM_STRIP) }

    /// The scratch `panelProductOnThisThread` needs for op(B) [k, n]: ⌈n/32⌉ strips of 32·k floats.
    static func panelFloats(n: Int, k: Int) -> Int { panelStrips(n: n) * Int(LLM_GEMM_STRIP) * k }

    /// C[m, n] = A[m, k] · B[k, n] (row-major with leading dimensions).
    @inline(__always)
    static func matmul(_ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                       _ c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int) {
        sgemm(a, b, c, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
    }

    /// RMSNorm of one row: y = x / sqrt(mean(x²) + eps) ⊙ gain.   x, y, gain: [n]
    @inline(__always)
    static func rmsNormRow(_ x: UnsafePointer<Float>, _ gain: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                           n: Int, eps: Float) {
        var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
        var i = 0
        while i + 4 <= n {
            s0 += x[i] * x[i]; s1 += x[i + 1] * x[i + 1]; s2 += x[i + 2] * x[i + 2]; s3 += x[i + 3] * x[i + 3]
            i += 4
        }
        while i < n { s0 += x[i] * x[i]; i += 1 }
        let scale = 1 / (((s0 + s1) + (s2 + s3)) / Float(n) + eps).squareRoot()
        for j in 0..<n { y[j] = x[j] * scale * gain[j] }
    }

    /// RMSNorm over rows, in parallel.   x: [rows, n] (row stride ldx) -> y: [rows, n]
    static func rmsNorm(_ x: UnsafePointer<Float>, _ gain: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                        rows: Int, n: Int, eps: Float) {
        let xs = UncheckedSendable(x), ys = UncheckedSendable(y), g = UncheckedSendable(gain)
        Parallel.forChunks(rows, costPerItem: n * 4) { lo, hi in
            for r in lo..<hi { rmsNormRow(xs.value + r * n, g.value, ys.value + r * n, n: n, eps: eps) }
        }
    }

    /// Whether CLabKernels' AVX2 kernels may be called (its own CPU check, as Lab's `hasAVX2Kernels`).
    static let hasAVX2Kernels = lab_has_avx2() != 0

    /// softmax(scale · x) over the first `n` entries of a row, in place; entries n..<width are set
    /// to 0 (the causal mask: keys after the query's position get no weight). With AVX2 the C kernel
    /// (`lab_softmax_scaled_avx2`) runs this loop's operations in its order, the exponentials 8 at a time: same bits.
    @inline(__always)
    static func softmaxRow(_ x: UnsafeMutablePointer<Float>, n: Int, width: Int, scale: Float,
                           useAVX2: Bool = hasAVX2Kernels) {
        if useAVX2 {
            lab_softmax_scaled_avx2(x, n, width, scale)
            return
        }
        var m = -Float.infinity
        for j in 0..<n { m = max(m, x[j]) }
        var s: Float = 0
        for j in 0..<n {
            let e = fastExp((x[j] - m) * scale)
            x[j] = e
            s += e
        }
        let inv = 1 / s
        for j in 0..<n { x[j] *= inv }
        for j in n..<width { x[j] = 0 }
    }

    /// h = SiLU(g) ⊙ u over rows (Lab's `swiGLU` kernel).   gu: [rows, 2m] (gate | up) -> h: [rows, m]
    static func swiglu(_ gu: UnsafePointer<Float>, _ h: UnsafeMutablePointer<Float>, rows: Int, width m: Int) {
        let src = UncheckedSendable(gu), dst = UncheckedSendable(h)
        Parallel.forChunks(rows, costPerItem: m * 8) { lo, hi in
            for r in lo..<hi {
                let g = src.value + r * 2 * m
                swiGLU(g, up: g + m, dst.value + r * m, count: m)
            }
        }
    }

    /// Rotary embedding on adjacent pairs (2i, 2i+1) of every head of one row:
    /// (a, b) -> (a cos θ − b sin θ, a sin θ + b cos θ), θ = position · base^(−2i/headDim); `table` holds
    /// cos, sin interleaved for this position: [headDim/2 · 2].
    @inline(__always)
    static func ropeRow(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, table: UnsafePointer<Float>) {
        let half = headDim / 2
        for h in 0..<heads {
            let v = x + h * headDim
            for i in 0..<half {
                let c = table[2 * i], s = table[2 * i + 1]
                let a = v[2 * i], b = v[2 * i + 1]
                v[2 * i] = a * c - b * s
                v[2 * i + 1] = a * s + b * c
            }
        }
    }
}
