import CLabKernels
import Foundation

extension Tensor {
    /// Rotary position embedding (Su et al. 2021, arXiv 2104.09864), adjacent-pair convention: for each
    /// position t (= `offset` + index along axis −2) and pair i, (x₂ᵢ, x₂ᵢ₊₁) is rotated by the angle t·θᵢ with
    /// θᵢ = base^(−2i/d). x: [.., T, d] with d even → same shape. The backward rotates by −t·θᵢ.
    public func rope(base: Float = 10_000, offset: Int = 0) -> Tensor {
        precondition(rank >= 2 && shape[rank - 1] % 2 == 0, "rope: last axis of \(shape) must be even")
        let (t, d) = (shape[rank - 2], shape[rank - 1])
        let outer = count / Swift.max(t * d, 1)
        var cosTable = [Float](repeating: 0, count: t * d / 2), sinTable = cosTable
        for p in 0..<t {
            for i in 0..<(d / 2) {
                let angle = Double(p + offset) * Foundation.pow(Double(base), -2 * Double(i) / Double(d))
                cosTable[p * d / 2 + i] = Float(Foundation.cos(angle))
                sinTable[p * d / 2 + i] = Float(Foundation.sin(angle))
            }
        }
        func rotate(_ src: [Float], sign: Float) -> [Float] {
            var dst = [Float](repeating: 0, count: src.count)
            for o in 0..<outer {
                for p in 0..<t {
                    let row = (o * t + p) * d
                    for i in 0..<(d / 2) {
                        let (c, s) = (cosTable[p * d / 2 + i], sign * sinTable[p * d / 2 + i])
                        let (a, b) = (src[row + 2 * i], src[row + 2 * i + 1])
                        dst[row + 2 * i] = a * c - b * s
                        dst[row + 2 * i + 1] = a * s + b * c
                    }
                }
            }
            return dst
        }
        let out = Tensor(shape: shape, data: rotate(data, sign: 1))
        let src = self
        return out.recorded(self) { g in src.accumulateGrad(rotate(g.data, sign: -1)) }
    }
}

/// Where the (batch, head) pairs of attention's operands lie in memory.
/// - `headsFirst`: [B, H, T, d]; a pair's T rows are contiguous.
/// - `tokensFirst`: [B, T, H, d], as a projection [B, T, H·d] writes them; a pair's rows are d-wide slices
///   H·d apart, read and written in place (no permuted copy either way).
public enum AttentionLayout: Sendable { case headsFirst, tokensFirst }

/// Scaled dot-product attention: softmax(q·kᵀ/√d + mask)·v over the B·H (batch, head) pairs.
/// q: [B, H, Tq, d], k, v: [B, H, Tk, d] → [B, H, Tq, d] (`layout` .headsFirst), or q: [B, Tq, H, d],
/// k, v: [B, Tk, H, d] → [B, Tq, H, d] (.tokensFirst; the same numbers, in the other layout);
/// `causal` masks keys after the query position (queries are the last Tq of the Tk positions); `keyPadding`
/// ([B, Tk], 1 = padding) masks padded keys. A query whose keys are all masked gets zero weights (output 0).
///
/// One fused op, parallel over the B·H (batch, head) pairs: per pair the scores are one single-threaded GEMM,
/// the masked softmax runs row by row over the unmasked keys only (no mask tensor, no −∞ fill), and the
/// weights P are kept for the backward (dP = dO·vᵀ, dS = P ⊙ (dP − rowsum(P ⊙ dP)), dq = dS·k/√d,
/// dk = dSᵀ·q/√d, dv = Pᵀ·dO). Pairs are independent, so the result does not depend on the thread count.
public func scaledDotProductAttention(query q: Tensor, key k: Tensor, value v: Tensor, causal: Bool,
                                      keyPadding: Tensor? = nil, layout: AttentionLayout = .headsFirst) -> Tensor {
    precondition(q.rank == 4 && k.rank == 4 && v.rank == 4,
                 "scaledDotProductAttention: q \(q.shape), k \(k.shape), v \(v.shape) must be \(layout == .headsFirst ? "[B, H, T, d]" : "[B, T, H, d]")")
    let tokensFirst = layout == .tokensFirst
    let (b, h, tq, d) = tokensFirst ? (q.shape[0], q.shape[2], q.shape[1], q.shape[3]) : (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
    let tk = k.shape[tokensFirst ? 1 : 2]
    precondition(k.shape == (tokensFirst ? [b, tk, h, d] : [b, h, tk, d]) && v.shape == k.shape,
                 "scaledDotProductAttention: q \(q.shape), k \(k.shape), v \(v.shape) disagree")
    precondition(!causal || tk >= tq, "scaledDotProductAttention: causal with \(tq) queries but only \(tk) keys")
    if let pad = keyPadding {
        precondition(pad.shape == [b, tk], "scaledDotProductAttention: keyPadding \(pad.shape), expected [\(b), \(tk)]")
    }
    let pairs = b * h, scale = 1 / Float(d).squareRoot()
    let recording = Tensor.recording(q, k, v)
    if q.count == 0 || k.count == 0 {
        // No queries, no keys or zero-width heads: the output is empty, or 0 (no key to attend to).
        return Tensor.zeros(q.shape).recorded(q, k, v) { _ in }
    }
    // A pair's first query row (of q, the output and their gradients) and first key row (of k, v and theirs),
    // and the distance between consecutive rows of a pair.
    let ld = tokensFirst ? h * d : d
    func queryOffset(_ pair: Int) -> Int { tokensFirst ? (pair / h) * tq * ld + (pair % h) * d : pair * tq * d }
    func keyOffset(_ pair: Int) -> Int { tokensFirst ? (pair / h) * tk * ld + (pair % h) * d : pair * tk * d }
    let padding: [Bool] = keyPadding.map { $0.data.map { $0 != 0 } } ?? []   // empty: no padding
    Parallel.prepareBLAS()
    /// The keys query row i sees: 0..<visibleKeys(i), minus padded keys.
    func visibleKeys(_ i: Int) -> Int { causal ? Swift.min(tk, i + (tk - tq) + 1) : tk }
    // P: [pairs, tq, tk], kept only when the backward needs it.
    var weights = recording ? scratchFloats(pairs * tq * tk) : []
    let out = Tensor(shape: q.shape) { o in
        q.data.withUnsafeBufferPointer { qp in
        k.data.withUnsafeBufferPointer { kp in
        v.data.withUnsafeBufferPointer { vp in
        weights.withUnsafeMutableBufferPointer { wp in
            let shared = UncheckedSendable((q: qp.baseAddress!, k: kp.baseAddress!, v: vp.baseAddress!, o: o.baseAddress!,
                                            w: wp.isEmpty ? nil : wp.baseAddress))
            Parallel.forChunks(pairs, costPerItem: 4 * tq * tk * d) { lo, hi in
                let (qb, kb, vb, ob, wb) = shared.value
                var own = wb == nil ? scratchFloats(tq * tk) : []
                own.withUnsafeMutableBufferPointer { ownp in
                    for pair in lo..<hi {
                        let s = wb.map { $0 + pair * tq * tk } ?? ownp.baseAddress!
                        let (qo, ko) = (queryOffset(pair), keyOffset(pair))
                        blasSgemm(qb + qo, lda: ld, kb + ko, ldb: ld, s, ldc: tk, m: tq, n: tk, k: d,
                                  transA: false, transB: true, alpha: scale, beta: 0)
                        let batch = pair / h
                        padding.withUnsafeBufferPointer { pad in
                            let keys = pad.isEmpty ? nil : pad.baseAddress! + batch * tk
                            for i in 0..<tq {
                                attentionSoftmaxRow(s + i * tk, visible: visibleKeys(i), width: tk, padding: keys)
                            }
                        }
                        blasSgemm(s, lda: tk, vb + ko, ldb: ld, ob + qo, ldc: ld, m: tq, n: d, k: tk,
                                  transA: false, transB: false, alpha: 1, beta: 0)
                    }
                }
            }
        }
        }
        }
        }
    }
    guard recording else { return out }
    return out.recorded(q, k, v) { g in
        // Every element of each needed gradient is written below (GEMMs with beta 0 per pair).
        let (dq, dk, dv) = (scratchGradient(for: q), scratchGradient(for: k), scratchGradient(for: v))
        q.data.withUnsafeBufferPointer { qp in
        k.data.withUnsafeBufferPointer { kp in
        v.data.withUnsafeBufferPointer { vp in
        weights.withUnsafeBufferPointer { wp in
        g.data.withUnsafeBufferPointer { gp in
        withMutableData(dq) { dqp in
        withMutableData(dk) { dkp in
        withMutableData(dv) { dvp in
            let shared = UncheckedSendable((q: qp.baseAddress!, k: kp.baseAddress!, v: vp.baseAddress!, w: wp.baseAddress!,
                                            g: gp.baseAddress!, dq: dqp, dk: dkp, dv: dvp))
            Parallel.forChunks(pairs, costPerItem: 8 * tq * tk * d) { lo, hi in
                let (qb, kb, vb, wb, gb, dqb, dkb, dvb) = shared.value
                var dsBuffer = scratchFloats(tq * tk)
                dsBuffer.withUnsafeMutableBufferPointer { dsp in
                    let ds = dsp.baseAddress!
                    for pair in lo..<hi {
                        let (qo, ko) = (queryOffset(pair), keyOffset(pair))
                        let p = wb + pair * tq * tk, dO = gb + qo
                        if let dvb {
                            blasSgemm(p, lda: tk, dO, ldb: ld, dvb + ko, ldc: ld, m: tk, n: d, k: tq,
                                      transA: true, transB: false, alpha: 1, beta: 0)
                        }
                        guard dqb != nil || dkb != nil else { continue }
                        // dP = dO·vᵀ, then dS = P ⊙ (dP − Σ_j P·dP) row by row (masked entries have P = 0).
                        blasSgemm(dO, lda: ld, vb + ko, ldb: ld, ds, ldc: tk, m: tq, n: tk, k: d,
                                  transA: false, transB: true, alpha: 1, beta: 0)
                        for i in 0..<tq {
                            let pr = p + i * tk, dr = ds + i * tk
                            let n = visibleKeys(i)
                            let delta = RowKernels.dot(pr, dr, n)
                            for j in 0..<n { dr[j] = pr[j] * (dr[j] - delta) }
                            for j in n..<tk { dr[j] = 0 }
                        }
                        if let dqb {
                            blasSgemm(ds, lda: tk, kb + ko, ldb: ld, dqb + qo, ldc: ld, m: tq, n: d, k: tk,
                                      transA: false, transB: false, alpha: scale, beta: 0)
                        }
                        if let dkb {
                            blasSgemm(ds, lda: tk, qb + qo, ldb: ld, dkb + ko, ldc: ld, m: tk, n: d, k: tq,
                                      transA: true, transB: false, alpha: scale, beta: 0)
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
        }
        }
        if let dq { q.accumulateGrad(dq) }
        if let dk { k.accumulateGrad(dk) }
        if let dv { v.accumulateGrad(dv) }
    }
}

/// One row of the masked softmax in place: entries 0..<visible that are not padded become softmax weights,
/// the rest 0. A row with no unmasked entry becomes all 0.
/// With `useAVX2` (the default where the CPU has it) the row runs through CLabKernels' `lab_softmax_avx2`, which
/// performs the same operations in the same order 8 lanes at a time (the same bits; a test compares both paths).
@inline(__always)
func attentionSoftmaxRow(_ x: UnsafeMutablePointer<Float>, visible: Int, width: Int, padding: UnsafePointer<Bool>?,
                         useAVX2: Bool = hasAVX2Kernels) {
    if let padding {
        for j in 0..<visible where padding[j] { x[j] = -.infinity }
    }
    if useAVX2 {
        if lab_softmax_avx2(x, visible) == -.infinity {  // exp(−∞ − m) = 0 for padded keys
            x.update(repeating: 0, count: width)
            return
        }
    } else {
        let m = RowKernels.max(x, visible)
        if m == -.infinity {
            x.update(repeating: 0, count: width)
            return
        }
        let total = RowKernels.expShifted(x, visible, shift: m)   // exp(−∞ − m) = 0 for padded keys
        RowKernels.scale(x, visible, by: 1 / total)
    }
    if visible < width { (x + visible).update(repeating: 0, count: width - visible) }
}

/// Multi-head self-attention (Vaswani et al. 2017, arXiv 1706.03762) with optional grouped-query heads
/// (kvHeads < heads, each key/value head shared by heads/kvHeads query heads), rotary embeddings and a
/// causal mask. x: [B, T, D] → [B, T, D].
public final class MultiHeadAttention: Module {
    public let query: Linear, key: Linear, value: Linear, output: Linear
    public let heads: Int, kvHeads: Int, headDimension: Int
    public let causal: Bool
    /// RoPE base, or nil for no rotary embedding.
    public let ropeBase: Float?

    public init(dimension: Int, heads: Int, kvHeads: Int? = nil, causal: Bool, ropeBase: Float? = nil,
                bias: Bool = false, rng: inout RNG) {
        precondition(dimension % heads == 0, "MultiHeadAttention: dimension \(dimension) not divisible by \(heads) heads")
        let kv = kvHeads ?? heads
        precondition(heads % kv == 0, "MultiHeadAttention: \(heads) heads not divisible by \(kv) key/value heads")
        self.heads = heads; self.kvHeads = kv; headDimension = dimension / heads
        self.causal = causal; self.ropeBase = ropeBase
        query = Linear(inputSize: dimension, outputSize: dimension, bias: bias, rng: &rng)
        key = Linear(inputSize: dimension, outputSize: kv * headDimension, bias: bias, rng: &rng)
        value = Linear(inputSize: dimension, outputSize: kv * headDimension, bias: bias, rng: &rng)
        output = Linear(inputSize: dimension, outputSize: dimension, bias: bias, rng: &rng)
    }

    /// x: [B, T, D]; keyPadding: [B, T] with 1 at padded positions.
    public func callAsFunction(_ x: Tensor, keyPadding: Tensor? = nil) -> Tensor {
        let (b, t) = (x.shape[0], x.shape[1])
        let hd = headDimension
        if ropeBase == nil && kvHeads == heads {
            // Attention straight on the projections' [B, T, H, hd] layout: no permuted copies, the same numbers.
            func heads(_ y: Tensor) -> Tensor { y.reshaped([b, t, self.heads, hd]) }
            let attended = scaledDotProductAttention(query: heads(query(x)), key: heads(key(x)), value: heads(value(x)),
                                                     causal: causal, keyPadding: keyPadding, layout: .tokensFirst)
            return output(attended.reshaped([b, t, self.heads * hd]))
        }
        func split(_ y: Tensor, _ n: Int) -> Tensor { y.reshaped([b, t, n, hd]).permuted([0, 2, 1, 3]) }  // [B, n, T, hd]
        var q = split(query(x), heads), k = split(key(x), kvHeads), v = split(value(x), kvHeads)
        if let base = ropeBase { q = q.rope(base: base); k = k.rope(base: base) }
        if kvHeads != heads {
            let groups = heads / kvHeads
            let index = (0..<heads).map { $0 / groups }
            k = k.indexSelect(axis: 1, index)
            v = v.indexSelect(axis: 1, index)
        }
        let attended = scaledDotProductAttention(query: q, key: k, value: v, causal: causal, keyPadding: keyPadding)
        return output(attended.permuted([0, 2, 1, 3]).reshaped([b, t, heads * hd]))
    }
}
