import Foundation
import Lab

/// An MoE conversion of every FFN of a model (docs/papers/dynamic-k-moe.md §3): the expert split and the router of
/// each layer, and the analytic cost model.
public struct Conversion {
    public let partitions: [ExpertPartition]
    public let routers: [ExpertRouter]
    public let cost: MoECost

    public init(partitions: [ExpertPartition], routers: [ExpertRouter], cost: MoECost) {
        precondition(partitions.count == routers.count, "Conversion: \(partitions.count) partitions, \(routers.count) routers")
        self.partitions = partitions; self.routers = routers; self.cost = cost
    }

    public var experts: Int { cost.experts }
}

/// How a converted FFN is computed: `masked` zeroes the neurons of unselected experts in a = φ(W1 x + b1) and
/// applies W2 (fast, the same numbers as running only the selected experts); `expertSum` runs each selected
/// expert's W2_e a_e and sums them (the MoE's own computation; used for the exactness check).
public enum FFNPath: Sendable { case masked, expertSum }

/// What one evaluation of a (possibly converted) model on the fixed windows gives.
public struct ModelEvaluation: Sendable {
    /// Pooled next-character statistics over the scored positions of all windows.
    public var stats: WindowStats
    /// Logits [W·T, vocabulary] of the windows' inputs.
    public var logits: [Float]
    /// k̄_ℓ: the mean number of selected experts of each layer over scored tokens (empty for a dense model).
    public var meanSelected: [Double]
    /// k(x)/E of every scored token, per layer (empty for a dense model).
    public var tokenFractions: [[Double]]
    /// Per layer, the density (fraction of positive a_i) of every scored token.
    public var densities: [[Double]]
}

/// Splits one layer's FFN into `experts` equal experts: balanced k-means on the rows of W1 normalised to unit L2
/// (docs/papers/dynamic-k-moe.md §3), `iterations` Lloyd rounds, k-means++ from `rng`.
public func splitExperts(_ model: CharGPT, layer: Int, experts: Int, iterations: Int, rng: inout RNG) -> ExpertPartition {
    let w1 = model.ffnWeights(layer: layer).up
    let (m, d) = (w1.shape[0], w1.shape[1])
    var rows = w1.data
    for i in 0..<m {
        var square: Float = 0
        for j in 0..<d { square += rows[i * d + j] * rows[i * d + j] }
        let scale = 1 / max(square.squareRoot(), 1e-12)
        for j in 0..<d { rows[i * d + j] *= scale }
    }
    return ExpertPartition(experts: balancedKMeans(points: rows, dimension: d, clusters: experts, iterations: iterations, rng: &rng),
                           neuronCount: m)
}

/// The frozen model's post-LN FFN inputs x [N, d] and activations a [N, m] of every layer on `windows` (every
/// position of each window is a token), run `batch` windows at a time.
public func cacheActivations(_ model: CharGPT, windows: [[Int]], batch: Int) -> (inputs: [Tensor], activations: [Tensor]) {
    let (layers, d, m) = (model.config.layers, model.config.width, model.config.ffnWidth)
    let length = windows[0].count
    var inputs = [[Float]](repeating: [], count: layers), activations = [[Float]](repeating: [], count: layers)
    for start in stride(from: 0, to: windows.count, by: batch) {
        let chunk = Array(windows[start..<min(start + batch, windows.count)])
        _ = noGrad {
            model(chunk.flatMap { $0 }, batch: chunk.count, length: length) { layer, x in
                let a = model.ffnActivation(layer: layer, x)
                inputs[layer] += x.data
                activations[layer] += a.data
                return model.ffnOutput(layer: layer, a)
            }
        }
    }
    let tokens = windows.count * length
    return (inputs.map { Tensor(shape: [tokens, d], data: $0) }, activations.map { Tensor(shape: [tokens, m], data: $0) })
}

/// Evaluates the model on fixed windows of T + 1 ids (inputs: the first T; targets at positions ≥ firstScored are
/// scored), dense or with every FFN converted and gated by `gating` (docs/papers/dynamic-k-moe.md §3, evaluation).
/// Selection counts and densities cover the scored tokens only.
public func evaluate(_ model: CharGPT, windows: [[Int]], firstScored: Int, conversion: Conversion? = nil,
                     gating: ExpertGating = .dynamicK(tau: 0), path: FFNPath = .masked) -> ModelEvaluation {
    let length = windows[0].count - 1
    let layers = model.config.layers
    let rows = windows.count * length
    let scored = (0..<rows).map { $0 % length >= firstScored - 1 }
    var selectedSum = [Double](repeating: 0, count: layers)
    var tokenFractions = [[Double]](repeating: [], count: layers)
    var densities = [[Double]](repeating: [], count: layers)
    let logits = noGrad {
        model(windows.flatMap { $0.prefix(length) }, batch: windows.count, length: length) { layer, x in
            let flat = x.reshaped([rows, model.config.width])
            let a = model.ffnActivation(layer: layer, flat)
            densities[layer] = zip(rowDensities(a), scored).filter(\.1).map(\.0)
            guard let conversion else { return model.ffnOutput(layer: layer, a).reshaped(x.shape) }
            let partition = conversion.partitions[layer]
            let selection = gating.select(scores: routerScores(conversion.routers[layer], flat), experts: partition.count)
            for (row, k) in selectedCounts(selection, experts: partition.count).enumerated() where scored[row] {
                selectedSum[layer] += Double(k)
                tokenFractions[layer].append(Double(k) / Double(partition.count))
            }
            let weights = model.ffnWeights(layer: layer)
            let y = path == .masked
                ? model.ffnOutput(layer: layer, maskedExpertActivations(a, partition: partition, selection: selection))
                : expertSumOutput(a, downWeight: weights.down, downBias: weights.downBias, partition: partition, selection: selection)
            return y.reshaped(x.shape)
        }
    }
    let stats = autoregressiveWindowStats(logits: logits.data, vocabulary: model.vocabularySize, windows: windows, firstScored: firstScored)
        .reduce(WindowStats(), +)
    let scoredCount = Double(scored.filter { $0 }.count)
    return ModelEvaluation(stats: stats, logits: logits.data,
                           meanSelected: conversion == nil ? [] : selectedSum.map { $0 / scoredCount },
                           tokenFractions: conversion == nil ? [] : tokenFractions, densities: densities)
}
