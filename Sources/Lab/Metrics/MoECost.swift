import Foundation

/// Analytic per-token FLOPs of an FFN converted to a mixture of experts (docs/papers/dynamic-k-moe.md §3).
/// FLOPs = 2 × multiply-adds of the matmuls; biases and activations are not counted. With width d, FFN width m,
/// E experts of s = m/E neurons and a router of hidden width h:
///   dense FFN F = 2·(d·m + m·d) = 4dm;  one expert 4ds;  router R = 2dh + 2hE.
/// A layer that runs k experts for a token costs R + k·4ds; the FFN cost fraction of a model whose layers run
/// k̄_ℓ experts on average is c = Σ_ℓ (R + k̄_ℓ·4ds) / Σ_ℓ F = R/F + mean_ℓ k̄_ℓ / E.
public struct MoECost: Sendable, Equatable {
    public let width: Int
    public let ffnWidth: Int
    public let experts: Int
    public let routerHidden: Int

    public init(width: Int, ffnWidth: Int, experts: Int, routerHidden: Int) {
        precondition(experts > 0 && ffnWidth % experts == 0, "MoECost: \(ffnWidth) neurons do not split into \(experts) equal experts")
        self.width = width; self.ffnWidth = ffnWidth; self.experts = experts; self.routerHidden = routerHidden
    }

    public var denseFFN: Double { Double(4 * width * ffnWidth) }
    public var expert: Double { Double(4 * width * (ffnWidth / experts)) }
    public var router: Double { Double(2 * width * routerHidden + 2 * routerHidden * experts) }

    /// c = R/F + mean_ℓ k̄_ℓ / E from the mean number of selected experts of each layer.
    public func ffnFraction(meanSelected: [Double]) -> Double {
        precondition(!meanSelected.isEmpty, "MoECost.ffnFraction: no layers")
        let layerCost = meanSelected.reduce(0) { $0 + router + $1 * expert }
        return layerCost / (Double(meanSelected.count) * denseFFN)
    }

    /// The whole-model fraction for an FFN fraction c: (N + c·L·F) / (N + L·F), N = the non-FFN FLOPs per token.
    public func modelFraction(ffnFraction c: Double, layers: Int, nonFFN: Double) -> Double {
        let ffn = Double(layers) * denseFFN
        return (nonFFN + c * ffn) / (nonFFN + ffn)
    }

    /// Non-FFN matmul FLOPs per token of a decoder: Σ_ℓ (8d² + 4·T̄·d) + 2dV (Q, K, V and output projections;
    /// scores and weighted values over a mean causal context of T̄ keys; the output head).
    public static func decoderNonFFN(width d: Int, layers: Int, meanContext: Double, vocabulary: Int) -> Double {
        Double(layers) * (Double(8 * d * d) + 4 * meanContext * Double(d)) + Double(2 * d * vocabulary)
    }
}
