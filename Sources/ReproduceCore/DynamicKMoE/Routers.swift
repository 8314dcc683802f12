import Foundation
import Lab

/// How a router is trained on its cached targets (docs/papers/dynamic-k-moe.md §3).
public enum RouterObjective: String, Sendable {
    /// D2DMoE: regress each expert's output norm n_e(x) = ‖W2_e a_e(x)‖₂ with MSE on |s(x)|.
    case normRegression
    /// MoEfication: BCE-with-logits against y_e = u_e / max over the batch (all tokens and experts) of u,
    /// u_e = Σ_{i∈e} a_i.
    case activationBCE
}

/// A router's training data: the cached post-LN FFN inputs [N, d] of one layer and its cached targets [N·E]
/// (expert output norms for `.normRegression`, summed activations u for `.activationBCE`), computed once from the
/// frozen model with all experts run, never per step.
public struct RouterCache: Sendable {
    public let inputs: Tensor
    public let targets: [Float]
    public let experts: Int

    public init(inputs: Tensor, targets: [Float], experts: Int) {
        precondition(inputs.rank == 2 && targets.count == inputs.shape[0] * experts,
                     "RouterCache: inputs \(inputs.shape) and \(targets.count) targets for \(experts) experts")
        self.inputs = inputs; self.targets = targets; self.experts = experts
    }

    public var tokens: Int { inputs.shape[0] }

    /// The training target of a batch of cached rows: the cached values, divided by the batch maximum for BCE.
    public func batchTargets(rows: [Int], objective: RouterObjective) -> Tensor {
        var values = [Float](repeating: 0, count: rows.count * experts)
        for (b, row) in rows.enumerated() { for e in 0..<experts { values[b * experts + e] = targets[row * experts + e] } }
        if objective == .activationBCE, let largest = values.max(), largest > 0 {
            for i in values.indices { values[i] /= largest }
        }
        return Tensor(shape: [rows.count, experts], data: values)
    }
}

/// Trains one router on its cache: `steps` Adam steps (lr `learningRate`, β 0.9/0.999) on batches of `batchSize`
/// rows drawn uniformly with replacement from `rng`. Loss: MSE(s(x), n) for `.normRegression` (the router outputs
/// |·|), BCE-with-logits(z(x), y) for `.activationBCE`. Returns the loss of every step.
public func trainRouter(_ router: ExpertRouter, cache: RouterCache, objective: RouterObjective, steps: Int, batchSize: Int,
                        learningRate: Float, rng: inout RNG) -> [Float] {
    let optimizer = Adam(parameters: router.parameters, learningRate: learningRate)
    var losses: [Float] = []
    for _ in 0..<steps {
        let rows = (0..<batchSize).map { _ in rng.int(below: cache.tokens) }
        let x = cache.inputs.indexSelect(axis: 0, rows)
        let target = cache.batchTargets(rows: rows, objective: objective)
        optimizer.zeroGrad()
        let loss = objective == .normRegression ? mseLoss(router(x), target) : bceWithLogits(router(x), targets: target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item)
    }
    return losses
}

/// The scores a gating rule reads from a router: the predicted norms |s| of a norm router; for a logits router
/// σ(z) (dynamic-k needs non-negative scores; top-k is unchanged by the monotone σ). x [N, d] → [N·E].
public func routerScores(_ router: ExpertRouter, _ x: Tensor) -> [Float] {
    noGrad {
        switch router.kind {
        case .norm: return router(x).data
        case .logits: return router(x).sigmoid().data
        }
    }
}
