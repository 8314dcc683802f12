import CBLAS

/// One OpenBLAS SGEMM on the calling thread: C = alpha·op(A)·op(B) + beta·C, row-major with leading dimensions.
/// OpenBLAS itself always runs single-threaded (see `Parallel`), so this never starts or wakes other threads.
@inline(__always)
func blasSgemm(_ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
               _ c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int,
               transA: Bool, transB: Bool, alpha: Float, beta: Float) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Products with fewer multiply-adds than this run on one thread: splitting costs a dispatch (~10 µs), about
/// what 2²⁰ multiply-adds take on one core.
let gemmSplitWork = 1 << 20

/// Output columns (or rows) per unit of the split, so every thread gets whole register tiles of the kernel.
let gemmSplitBlock = 32

/// C = alpha·op(A)·op(B) + beta·C on raw row-major buffers, with op = transpose when the flag is set.
/// A is [M, K] (or [K, M] if transA), B is [K, N] (or [N, K] if transB), C is [M, N]; the leading dimensions
/// default to the dense ones.
///
/// Large products are split over `Parallel.threads` into blocks of C columns (or rows, when M > N), each an
/// independent single-threaded OpenBLAS call: Lab's threads are the only threads, so GEMMs and Lab's own
/// loops never compete for the cores, and nothing toggles OpenBLAS's thread count at run time. Each element
/// of C is computed by one call over the whole K, so results depend on the thread count only through the
/// block boundaries, which the thread count fixes.
public func sgemm(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                  m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
                  alpha: Float = 1, beta: Float = 0, lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil) {
    if m == 0 || n == 0 { return }
    let lda = lda ?? (transA ? m : k), ldb = ldb ?? (transB ? k : n), ldc = ldc ?? n
    if k == 0 {
        for r in 0..<m {
            let row = c + r * ldc
            if beta == 0 { row.update(repeating: 0, count: n) } else if beta != 1 { for j in 0..<n { row[j] *= beta } }
        }
        return
    }
    let splitColumns = n >= m
    let units = ((splitColumns ? n : m) + gemmSplitBlock - 1) / gemmSplitBlock
    if Parallel.threads == 1 || m * n * k < gemmSplitWork || units < 2 {
        blasSgemm(a, lda: lda, b, ldb: ldb, c, ldc: ldc, m: m, n: n, k: k, transA: transA, transB: transB,
                  alpha: alpha, beta: beta)
        return
    }
    let (ab, bb, cb) = (UncheckedSendable(a), UncheckedSendable(b), UncheckedSendable(c))
    Parallel.forChunks(units, costPerItem: 1 << 16) { lo, hi in
        if splitColumns {  // C[:, j0..<j1] = op(A) · op(B)[:, j0..<j1]
            let (j0, j1) = (lo * gemmSplitBlock, Swift.min(n, hi * gemmSplitBlock))
            blasSgemm(ab.value, lda: lda, bb.value + (transB ? j0 * ldb : j0), ldb: ldb, cb.value + j0, ldc: ldc,
                      m: m, n: j1 - j0, k: k, transA: transA, transB: transB, alpha: alpha, beta: beta)
        } else {           // C[i0..<i1, :] = op(A)[i0..<i1, :] · op(B)
            let (i0, i1) = (lo * gemmSplitBlock, Swift.min(m, hi * gemmSplitBlock))
            blasSgemm(ab.value + (transA ? i0 : i0 * lda), lda: lda, bb.value, ldb: ldb, cb.value + i0 * ldc, ldc: ldc,
                      m: i1 - i0, n: n, k: k, transA: transA, transB: transB, alpha: alpha, beta: beta)
        }
    }
}

/// `count` independent products C_i = alpha·op(A_i)·op(B_i) + beta·C_i, the i-th operands at
/// a + i·strideA, b + i·strideB, c + i·strideC (a stride of 0 shares the operand); B's leading dimension
/// defaults to the dense one. Small products (attention heads, one sample of a shallow convolution) run whole
/// on Lab's threads, one product per call, in parallel over i; large ones run one after the other, each split
/// by `sgemm`. When C is shared (strideC = 0, a sum over i) the products run in order.
func batchedSgemm(_ a: UnsafePointer<Float>, strideA: Int, _ b: UnsafePointer<Float>, strideB: Int,
                  _ c: UnsafeMutablePointer<Float>, strideC: Int, count: Int, m: Int, n: Int, k: Int,
                  transA: Bool = false, transB: Bool = false, alpha: Float = 1, beta: Float = 0, ldb: Int? = nil) {
    let (lda, ldb) = (transA ? m : k, ldb ?? (transB ? k : n))
    if strideC == 0 || m * n * k >= gemmSplitWork || k == 0 {
        for i in 0..<count {
            sgemm(a + i * strideA, b + i * strideB, c + i * strideC, m: m, n: n, k: k, transA: transA, transB: transB,
                  alpha: alpha, beta: beta, ldb: ldb)
        }
        return
    }
    if m == 0 || n == 0 { return }
    let (ab, bb, cb) = (UncheckedSendable(a), UncheckedSendable(b), UncheckedSendable(c))
    Parallel.forChunks(count, costPerItem: Swift.max(1, m * n * k / 4)) { lo, hi in
        for i in lo..<hi {
            blasSgemm(ab.value + i * strideA, lda: lda, bb.value + i * strideB, ldb: ldb, cb.value + i * strideC,
                      ldc: n, m: m, n: n, k: k, transA: transA, transB: transB, alpha: alpha, beta: beta)
        }
    }
}

extension Tensor {
    /// The (M, N, K) of `matmul` on operands of these shapes, or a `LabError.shapeMismatch` naming both shapes:
    /// fewer than 2 axes, inner extents that differ, or batch extents that differ (B is 3-d or more).
    public static func checkedMatmulExtents(_ a: [Int], _ b: [Int], transposeA: Bool = false,
                                            transposeB: Bool = false) throws -> (m: Int, n: Int, k: Int) {
        guard a.count >= 2 && b.count >= 2 else {
            throw LabError.shapeMismatch(op: "matmul", shapes: [a, b], reason: "needs 2-d or more operands")
        }
        let (ar, ac) = (a[a.count - 2], a[a.count - 1]), (br, bc) = (b[b.count - 2], b[b.count - 1])
        let (m, k) = transposeA ? (ac, ar) : (ar, ac)
        let (k2, n) = transposeB ? (bc, br) : (br, bc)
        guard k == k2 else {
            throw LabError.shapeMismatch(op: "matmul", shapes: [a, b], reason: "inner extents differ: \(k) vs \(k2)"
                                         + " (transposeA \(transposeA), transposeB \(transposeB))")
        }
        guard b.count == 2 || a.dropLast(2) == b.dropLast(2) else {
            throw LabError.shapeMismatch(op: "matmul", shapes: [a, b], reason: "batch extents differ")
        }
        return (m, n, k)
    }

    /// Matrix product over the last two axes, with optional transposes that cost no copy:
    /// op(self) [.., M, K] x op(other) [.., K, N] → [.., M, N].
    ///
    /// - `other` 2-d: shared by every leading index of `self` (one GEMM over all rows when not transposing A).
    /// - both 3-d or more with the same leading extents: one GEMM per batch entry (bmm), small ones in parallel
    ///   over the batch (`batchedSgemm`).
    public func matmul(_ other: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        let a = self, b = other
        let (m, n, k): (Int, Int, Int)
        do { (m, n, k) = try Tensor.checkedMatmulExtents(a.shape, b.shape, transposeA: transposeA, transposeB: transposeB) }
        catch { preconditionFailure("\(error)") }
        let batchA = Array(a.shape.dropLast(2))
        let sharedB = b.rank == 2
        let batch = batchA.reduce(1, *)
        let outShape = batchA + [m, n]

        // When B is shared and A is not transposed, all batch rows form one tall GEMM.
        let fold = sharedB && !transposeA
        let out = Tensor(shape: outShape) { o in
            a.data.withUnsafeBufferPointer { ap in
                b.data.withUnsafeBufferPointer { bp in
                    if fold {
                        sgemm(ap.baseAddress!, bp.baseAddress!, o.baseAddress!, m: batch * m, n: n, k: k,
                              transB: transposeB)
                    } else {
                        batchedSgemm(ap.baseAddress!, strideA: m * k, bp.baseAddress!, strideB: sharedB ? 0 : k * n,
                                     o.baseAddress!, strideC: m * n, count: batch, m: m, n: n, k: k,
                                     transA: transposeA, transB: transposeB)
                    }
                }
            }
        }
        return out.recorded(a, b) { g in
            g.data.withUnsafeBufferPointer { gp in
                let gb = gp.baseAddress!
                if a.requiresGrad {
                    a.accumulateGEMMGrad { dst, beta in
                        b.data.withUnsafeBufferPointer { bp in
                            let bb = bp.baseAddress!
                            if fold {
                                // dA = g · op(B)ᵀ
                                sgemm(gb, bb, dst, m: batch * m, n: k, k: n, transB: !transposeB, beta: beta)
                            } else {
                                let strideB = sharedB ? 0 : k * n
                                if transposeA {  // A stored [K, M]: dA = op(B) · gᵀ
                                    batchedSgemm(bb, strideA: strideB, gb, strideB: m * n, dst, strideC: m * k, count: batch,
                                                 m: k, n: m, k: n, transA: transposeB, transB: true, beta: beta)
                                } else {         // dA = g · op(B)ᵀ
                                    batchedSgemm(gb, strideA: m * n, bb, strideB: strideB, dst, strideC: m * k, count: batch,
                                                 m: m, n: k, k: n, transB: !transposeB, beta: beta)
                                }
                            }
                        }
                    }
                }
                if b.requiresGrad {
                    // A shared B sums over the batch (strideC 0): batchedSgemm keeps that sum in order, into a
                    // zeroed or existing buffer (beta 1); every other product writes its own block of dB.
                    func accumulate(_ body: (UnsafeMutablePointer<Float>, Float) -> Void) {
                        if !fold && sharedB {
                            b.ensureGrad().data.withUnsafeMutableBufferPointer { body($0.baseAddress!, 1) }
                        } else {
                            b.accumulateGEMMGrad(body)
                        }
                    }
                    accumulate { dst, beta in
                        a.data.withUnsafeBufferPointer { ap in
                            let ab = ap.baseAddress!
                            if fold {
                                if transposeB {  // B stored [N, K]: dB = gᵀ · A
                                    sgemm(gb, ab, dst, m: n, n: k, k: batch * m, transA: true, beta: beta)
                                } else {         // dB = Aᵀ · g
                                    sgemm(ab, gb, dst, m: k, n: n, k: batch * m, transA: true, beta: beta)
                                }
                            } else {
                                let strideB = sharedB ? 0 : k * n
                                if transposeB {  // dB = gᵀ · op(A)
                                    batchedSgemm(gb, strideA: m * n, ab, strideB: m * k, dst, strideC: strideB, count: batch,
                                                 m: n, n: k, k: m, transA: true, transB: transposeA, beta: beta)
                                } else {         // dB = op(A)ᵀ · g
                                    batchedSgemm(ab, strideA: m * k, gb, strideB: m * n, dst, strideC: strideB, count: batch,
                                                 m: k, n: n, k: m, transA: !transposeA, beta: beta)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
