import CBLAS

/// C = alpha·op(A)·op(B) + beta·C on raw row-major buffers, with op = transpose when the flag is set.
/// A is [M, K] (or [K, M] if transA), B is [K, N] (or [N, K] if transB), C is [M, N].
@inline(__always)
public func sgemm(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                  m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
                  alpha: Float = 1, beta: Float = 0) {
    if m == 0 || n == 0 { return }
    if k == 0 {
        if beta == 0 { c.update(repeating: 0, count: m * n) } else if beta != 1 { for i in 0..<(m * n) { c[i] *= beta } }
        return
    }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(transA ? m : k), b, Int32(transB ? k : n),
                beta, c, Int32(n))
}

extension Tensor {
    /// Matrix product over the last two axes, with optional transposes that cost no copy:
    /// op(self) [.., M, K] x op(other) [.., K, N] → [.., M, N].
    ///
    /// - `other` 2-d: shared by every leading index of `self` (one GEMM over all rows when not transposing A).
    /// - both 3-d or more with the same leading extents: one GEMM per batch entry (bmm).
    public func matmul(_ other: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        let a = self, b = other
        precondition(a.rank >= 2 && b.rank >= 2, "matmul: needs 2-d or more operands, got \(a.shape) and \(b.shape)")
        let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let (m, k) = transposeA ? (ac, ar) : (ar, ac)
        let (k2, n) = transposeB ? (bc, br) : (br, bc)
        precondition(k == k2, "matmul: inner extents differ: \(a.shape)\(transposeA ? "ᵀ" : "") x \(b.shape)\(transposeB ? "ᵀ" : "") (\(k) vs \(k2))")
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let sharedB = b.rank == 2
        precondition(sharedB || batchA == batchB, "matmul: batch extents differ: \(a.shape) x \(b.shape)")
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
                        for i in 0..<batch {
                            sgemm(ap.baseAddress! + i * m * k, bp.baseAddress! + (sharedB ? 0 : i * k * n),
                                  o.baseAddress! + i * m * n, m: m, n: n, k: k, transA: transposeA, transB: transposeB)
                        }
                    }
                }
            }
        }
        return out.recorded(a, b) { g in
            g.data.withUnsafeBufferPointer { gp in
                let gb = gp.baseAddress!
                if a.requiresGrad {
                    let ga = a.ensureGrad()
                    ga.data.withUnsafeMutableBufferPointer { gap in
                        b.data.withUnsafeBufferPointer { bp in
                            let dst = gap.baseAddress!, bb = bp.baseAddress!
                            if fold {
                                // dA = g · op(B)ᵀ
                                sgemm(gb, bb, dst, m: batch * m, n: k, k: n, transB: !transposeB, beta: 1)
                            } else {
                                for i in 0..<batch {
                                    let gi = gb + i * m * n, bi = bb + (sharedB ? 0 : i * k * n), di = dst + i * m * k
                                    if transposeA {  // A stored [K, M]: dA = op(B) · gᵀ
                                        sgemm(bi, gi, di, m: k, n: m, k: n, transA: transposeB, transB: true, beta: 1)
                                    } else {         // dA = g · op(B)ᵀ
                                        sgemm(gi, bi, di, m: m, n: k, k: n, transB: !transposeB, beta: 1)
                                    }
                                }
                            }
                        }
                    }
                }
                if b.requiresGrad {
                    let gB = b.ensureGrad()
                    gB.data.withUnsafeMutableBufferPointer { gbp in
                        a.data.withUnsafeBufferPointer { ap in
                            let dst = gbp.baseAddress!, ab = ap.baseAddress!
                            if fold {
                                if transposeB {  // B stored [N, K]: dB = gᵀ · A
                                    sgemm(gb, ab, dst, m: n, n: k, k: batch * m, transA: true, beta: 1)
                                } else {         // dB = Aᵀ · g
                                    sgemm(ab, gb, dst, m: k, n: n, k: batch * m, transA: true, beta: 1)
                                }
                            } else {
                                for i in 0..<batch {
                                    let gi = gb + i * m * n, ai = ab + i * m * k, di = dst + (sharedB ? 0 : i * k * n)
                                    if transposeB {  // dB = gᵀ · op(A)
                                        sgemm(gi, ai, di, m: n, n: k, k: m, transA: true, transB: transposeA, beta: 1)
                                    } else {         // dB = op(A)ᵀ · g
                                        sgemm(ai, gi, di, m: k, n: n, k: m, transA: !transposeA, beta: 1)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
