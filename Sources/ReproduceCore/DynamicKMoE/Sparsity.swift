import Foundation
import Lab

/// The square-Hoyer sparsity penalty (Kurtz et al. 2020; D2DMoE's enforcement, docs/papers/dynamic-k-moe.md §3): for
/// the post-ReLU activations a ∈ R^m of one token in one layer, H(a) = (Σ_i a_i)² / (Σ_i a_i² + 1e-15) ∈ [1, m]
/// (1 for one active neuron, m for all equal); L_s = the mean of H over layers and tokens.
/// activations: one tensor [.., m] per layer → a scalar. Differentiable (plain ops).
public func squareHoyer(_ activations: [Tensor]) -> Tensor {
    precondition(!activations.isEmpty, "squareHoyer: no layers")
    let perLayer = activations.map { a in (a.sum(axis: -1).square() / (a.square().sum(axis: -1) + 1e-15)).mean() }
    return perLayer.dropFirst().reduce(perLayer[0], +) * (1 / Float(activations.count))
}

/// The Hoyer weight at a fine-tuning step: α(t) = α·min(t / (T/2), 1) (linear warm-up over the first half).
public func hoyerWeight(alpha: Double, step: Int, totalSteps: Int) -> Double {
    alpha * min(Double(step) / max(Double(totalSteps) / 2, 1), 1)
}

/// The fraction of positive entries of each row: activations [N, m] → [N] (per-token activation density).
public func rowDensities(_ activations: Tensor) -> [Double] {
    let m = activations.shape.last ?? 1
    let rows = activations.count / max(m, 1)
    return activations.data.withUnsafeBufferPointer { a in
        (0..<rows).map { r in
            var positive = 0
            for i in 0..<m where a[r * m + i] > 0 { positive += 1 }
            return Double(positive) / Double(m)
        }
    }
}

/// Mean, standard deviation (population) and coefficient of variation std/mean of values.
public func meanAndVariation(_ values: [Double]) -> (mean: Double, std: Double, cv: Double) {
    let mean = values.reduce(0, +) / Double(max(values.count, 1))
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(values.count, 1))
    let std = variance.squareRoot()
    return (mean, std, mean > 0 ? std / mean : .nan)
}
