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

/// Scaled dot-product attention: softmax(q·kᵀ/√d + mask)·v over [B·H, T, d] batches.
/// q: [B, H, Tq, d], k, v: [B, H, Tk, d]; `causal` masks keys after the query position (queries are the last
/// Tq of the Tk positions); `keyPadding` ([B, Tk], 1 = padding) masks padded keys.
public func scaledDotProductAttention(query q: Tensor, key k: Tensor, value v: Tensor, causal: Bool,
                                      keyPadding: Tensor? = nil) -> Tensor {
    let (b, h, tq, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
    let tk = k.shape[2]
    let scores = q.reshaped([b * h, tq, d]).matmul(k.reshaped([b * h, tk, d]), transposeB: true) * (1 / Float(d).squareRoot())
    var masked = scores
    if causal || keyPadding != nil {
        var mask = [Float](repeating: 0, count: b * h * tq * tk)
        for bi in 0..<b {
            for hi in 0..<h {
                for i in 0..<tq {
                    let row = ((bi * h + hi) * tq + i) * tk
                    for j in 0..<tk {
                        if causal && j > i + (tk - tq) { mask[row + j] = 1 }
                        if let pad = keyPadding, pad.data[bi * tk + j] != 0 { mask[row + j] = 1 }
                    }
                }
            }
        }
        masked = scores.maskedFill(Tensor(shape: scores.shape, data: mask), -.infinity)
    }
    let weights = masked.softmax(axis: -1)
    return weights.matmul(v.reshaped([b * h, tk, d])).reshaped([b, h, tq, d])
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
