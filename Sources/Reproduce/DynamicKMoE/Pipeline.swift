import DynamicKMoECore
import Foundation
import Lab
import LabRun

/// The four fine-tunes of the pretrained dense model (docs/papers/dynamic-k-moe.md §3).
enum Variant: String, CaseIterable {
    case geluRef = "gelu-ref", relu0 = "relu-0", reluMid = "relu-mid", reluHigh = "relu-high"

    var activation: FFNActivation { self == .geluRef ? .gelu : .relu }

    func alpha(_ plan: Plan) -> Double {
        switch self {
        case .geluRef, .relu0: return 0
        case .reluMid: return plan.alphaMid
        case .reluHigh: return plan.alphaHigh
        }
    }
}

/// What the run shares between sections: the plan, seed, data and fixed evaluation windows.
struct Setup {
    let plan: Plan
    let seed: Int
    let train: [Int]
    let vocabularySize: Int
    /// evalLength characters each.
    let evalWindows: [[Int]]
    let options: RunOptions

    func evaluateDense(_ model: CharGPT) -> ModelEvaluation {
        evaluate(model, windows: evalWindows, firstScored: plan.evalFirstScored)
    }
}

/// One fine-tuned model, its training losses and its dense evaluation.
struct FineTuned {
    let variant: Variant
    let model: CharGPT
    let losses: [Float]
    let dense: ModelEvaluation

    /// Mean per-token density pooled over layers and its coefficient of variation.
    var density: (mean: Double, std: Double, cv: Double) { meanAndVariation(dense.densities.flatMap { $0 }) }
}

/// Trains the dense GELU model from scratch (docs/papers/dynamic-k-moe.md §3, pretraining).
func pretrain(_ setup: Setup) throws -> (model: CharGPT, losses: [Float]) {
    var rng = RNG(seed: UInt64(setup.seed)).derived("init")
    let model = CharGPT(setup.plan.gptConfig(vocabularySize: setup.vocabularySize), rng: &rng)
    let recipe = setup.plan.pretraining
    let progress = setup.options.progress("pretrain", total: recipe.steps)
    let losses = trainLanguageModel(model, recipe: recipe, corpus: setup.train, dataSeed: UInt64(setup.seed) &+ 1000,
                                    loss: { m, ids, _, _ in autoregressiveLoss(m, windows: ids, length: recipe.length) },
                                    onStep: { step, loss in progress.update(step + 1, loss: Double(loss)) })
    progress.finish()
    try checkFinite(Double(losses.last ?? .nan), what: "pretraining loss", step: recipe.steps)
    return (model, losses)
}

/// One fine-tune from the pretrained checkpoint: the activation set to the variant's, loss CE + α(t)·L_s with the
/// square-Hoyer penalty on the FFN activations of every layer (α = 0: CE only). All fine-tunes see the same batches.
func fineTune(_ base: CharGPT, _ variant: Variant, _ setup: Setup) throws -> FineTuned {
    var scratch = RNG(seed: 0)
    let model = try base.clone { CharGPT(base.config, rng: &scratch) }
    model.activation = variant.activation
    let recipe = setup.plan.fineTuning
    let alpha = variant.alpha(setup.plan)
    let progress = setup.options.progress("fine-tune \(variant.rawValue)", total: recipe.steps)
    let losses = trainLanguageModel(model, recipe: recipe, corpus: setup.train, dataSeed: UInt64(setup.seed) &+ 2000,
                                    loss: { m, ids, step, _ in
        let (inputs, targets) = nextTokenPairs(windows: ids, length: recipe.length)
        var activations: [Tensor] = []
        let logits = m(inputs, batch: inputs.count / recipe.length, length: recipe.length) { layer, x in
            let a = m.ffnActivation(layer: layer, x)
            activations.append(a)
            return m.ffnOutput(layer: layer, a)
        }
        let ce = crossEntropy(logits, targets: targets)
        guard alpha > 0 else { return ce }
        return ce + squareHoyer(activations) * Float(hoyerWeight(alpha: alpha, step: step, totalSteps: recipe.steps))
    }, onStep: { step, loss in progress.update(step + 1, loss: Double(loss)) })
    progress.finish()
    try checkFinite(Double(losses.last ?? .nan), what: "\(variant.rawValue) fine-tuning loss", step: recipe.steps)
    return FineTuned(variant: variant, model: model, losses: losses, dense: setup.evaluateDense(model))
}

/// A model's cache for the routers: post-LN FFN inputs and activations of every layer on seeded training windows.
func activationCache(_ model: CharGPT, _ setup: Setup) -> (inputs: [Tensor], activations: [Tensor]) {
    var rng = RNG(seed: UInt64(setup.seed)).derived("router-cache")
    let length = setup.plan.config.context
    let starts = (0..<setup.plan.cacheWindows).map { _ in rng.int(below: setup.train.count - length + 1) }
    return cacheActivations(model, windows: starts.map { Array(setup.train[$0..<$0 + length]) }, batch: 32)
}

/// A trained conversion and the loss curve of its routers (mean over layers, per step).
struct TrainedConversion {
    let conversion: Conversion
    let objective: RouterObjective
    let losses: [Double]
}

/// Routers for one split of one model: each layer's router trained on that layer's cached targets (expert output
/// norms for D2DMoE, summed activations for MoEfication), computed once from the cache.
func trainConversion(_ model: CharGPT, partitions: [ExpertPartition], cache: (inputs: [Tensor], activations: [Tensor]),
                     objective: RouterObjective, _ setup: Setup, name: String) -> TrainedConversion {
    let plan = setup.plan
    let experts = partitions[0].count
    var rng = RNG(seed: UInt64(setup.seed)).derived("router-\(name)")
    var routers: [ExpertRouter] = []
    var losses = [Double](repeating: 0, count: plan.routerSteps)
    for (layer, partition) in partitions.enumerated() {
        let activations = cache.activations[layer]
        let targets = objective == .normRegression
            ? expertOutputNorms(activations, downWeight: model.ffnWeights(layer: layer).down, partition: partition)
            : expertActivationSums(activations, partition: partition)
        let router = ExpertRouter(kind: objective == .normRegression ? .norm : .logits, inputSize: plan.config.width,
                                  hiddenSize: plan.routerHidden, experts: experts, rng: &rng)
        let layerLosses = trainRouter(router, cache: RouterCache(inputs: cache.inputs[layer], targets: targets, experts: experts),
                                      objective: objective, steps: plan.routerSteps, batchSize: plan.routerBatch,
                                      learningRate: plan.routerLearningRate, rng: &rng)
        for (step, loss) in layerLosses.enumerated() { losses[step] += Double(loss) / Double(partitions.count) }
        routers.append(router)
    }
    let cost = MoECost(width: plan.config.width, ffnWidth: plan.config.ffnWidth, experts: experts, routerHidden: plan.routerHidden)
    return TrainedConversion(conversion: Conversion(partitions: partitions, routers: routers, cost: cost), objective: objective, losses: losses)
}

/// One evaluated sweep point with its selection statistics (kept for the layer-load figure).
struct SweepPoint {
    let point: CostPoint
    let gating: ExpertGating
    let evaluation: ModelEvaluation
}

/// Sweeps a gating rule over a converted model: one evaluation per τ (dynamic-k) or k (top-k).
func sweep(_ model: CharGPT, _ trained: TrainedConversion, gatings: [ExpertGating], _ setup: Setup) -> [SweepPoint] {
    let plan = setup.plan
    let nonFFN = MoECost.decoderNonFFN(width: plan.config.width, layers: plan.config.layers, meanContext: plan.meanContext,
                                       vocabulary: setup.vocabularySize)
    return gatings.map { gating in
        let evaluation = evaluate(model, windows: setup.evalWindows, firstScored: plan.evalFirstScored, conversion: trained.conversion,
                                  gating: gating)
        let cost = trained.conversion.cost
        let c = cost.ffnFraction(meanSelected: evaluation.meanSelected)
        let parameter: String
        switch gating {
        case .dynamicK(let tau): parameter = "τ=\(tau)"
        case .topK(let k): parameter = "k=\(k)"
        }
        return SweepPoint(point: CostPoint(parameter: parameter, cost: c, modelCost: cost.modelFraction(ffnFraction: c, layers: plan.config.layers, nonFFN: nonFFN),
                                           crossEntropy: evaluation.stats.meanNLL, accuracy: evaluation.stats.accuracy),
                          gating: gating, evaluation: evaluation)
    }
}

/// The dense point of a model (c = 1, no router).
func densePoint(_ evaluation: ModelEvaluation) -> CostPoint {
    CostPoint(parameter: "dense", cost: 1, modelCost: 1, crossEntropy: evaluation.stats.meanNLL, accuracy: evaluation.stats.accuracy)
}
