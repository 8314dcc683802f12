import Foundation

// Discrete routing with gradients (Gumbel-softmax, straight-through one-hot) and the cosine-similarity
// matrix used by mixture-of-experts routers and diversity losses.

extension Tensor {
    /// A Gumbel-softmax sample over the last axis (Jang et al. 2016, arXiv 1611.01144; Maddison et al. 2016,
    /// arXiv 1611.00712): y = softmax((logits + g)/τ) with g = −log(−log U), U ~ U(0, 1) drawn from `rng`.
    /// `hard: true` returns the straight-through sample: the one-hot of argmax y in the forward pass and the
    /// gradient of the soft y in the backward pass.
    ///
    ///     let gate = routerLogits.gumbelSoftmax(temperature: 1, hard: true, rng: &rng)   // [B, K] one-hot
    ///
    /// self: [.., K] logits → [.., K].
    public func gumbelSoftmax(temperature: Float = 1, hard: Bool = false, rng: inout RNG) -> Tensor {
        precondition(temperature > 0, "gumbelSoftmax: temperature \(temperature) must be > 0")
        var noise = [Float](repeating: 0, count: count)
        for i in 0..<count {
            // U in (0, 1): a U of exactly 0 would give an infinite Gumbel draw.
            var u = rng.uniform()
            while u <= .leastNormalMagnitude { u = rng.uniform() }
            noise[i] = Float(-Foundation.log(-Foundation.log(u)))
        }
        let soft = ((self + Tensor(shape: shape, data: noise)) / temperature).softmax(axis: -1)
        return hard ? soft.straightThroughOneHot() : soft
    }

    /// The one-hot of the row-wise argmax of the last axis (first index on ties) in the forward pass; the
    /// gradient passes to `self` unchanged (straight-through estimator, Bengio et al. 2013, arXiv 1308.3432).
    ///
    /// self: [.., K] → [.., K] with one 1 per row.
    public func straightThroughOneHot() -> Tensor {
        let k = shape.last ?? 1
        let winners = reshaped([count / Swift.max(k, 1), k]).argmax(axis: -1)
        var hot = [Float](repeating: 0, count: count)
        for (row, column) in winners.enumerated() { hot[row * k + column] = 1 }
        let src = self
        return Tensor(shape: shape, data: hot).recorded(self) { g in src.accumulateGrad(g) }
    }

    /// Cosine similarities of every row of `a` with every row of `b`:
    /// S[i, j] = a_i·b_j / (max(‖a_i‖, ε)·max(‖b_j‖, ε)).
    ///
    /// a: [N, D], b: [M, D] → [N, M].
    public static func cosineSimilarityMatrix(_ a: Tensor, _ b: Tensor, epsilon: Float = 1e-8) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[1],
                     "cosineSimilarityMatrix: a \(a.shape) and b \(b.shape) must be [N, D] and [M, D]")
        let unitA = a / a.norm(axis: -1, keepDims: true).clamp(min: epsilon)
        let unitB = b / b.norm(axis: -1, keepDims: true).clamp(min: epsilon)
        return unitA.matmul(unitB, transposeB: true)
    }
}
