import Foundation

/// A model that maps windows of token ids to next-token logits: ids [B·T] (row-major [B, T]) → logits
/// [B·T, vocabularySize]. Character LMs of several papers (Llama-style, GPT-2-style) share the training loop and
/// the losses below through it.
public protocol TokenSequenceModel: Module {
    var vocabularySize: Int { get }
    func logits(_ ids: [Int], batch: Int, length: Int) -> Tensor
}

/// The char-LM optimisation recipe (docs/papers/activation-sparsity.md §3, docs/papers/dynamic-k-moe.md §3): AdamW
/// with β (0.9, 0.95), weight decay 0.1, linear warm-up over `warmupSteps` then cosine to `finalFactor` of the
/// learning rate, gradient clipping at 1.0; batches of `batchSize` windows of `length` + 1 tokens.
public struct TrainingRecipe: Sendable {
    public var steps: Int
    public var batchSize: Int
    public var length: Int
    public var learningRate: Float = 3e-3
    public var warmupSteps: Int
    public var finalFactor: Float = 0.1
    public var weightDecay: Float = 0.1
    public var clipNorm: Float = 1

    public init(steps: Int, batchSize: Int, length: Int, warmupSteps: Int, learningRate: Float = 3e-3) {
        self.steps = steps; self.batchSize = batchSize; self.length = length; self.warmupSteps = warmupSteps
        self.learningRate = learningRate
    }
}

/// Trains every parameter of `model` on windows of `corpus` (length + 1 tokens each) drawn uniformly from
/// `dataSeed`'s stream (so models trained with the same seed see the same tokens). `loss(model, windows, step, rng)`
/// returns the step's loss on the batch (ids [batchSize·(length + 1)]); `rng` is a second stream derived from
/// `dataSeed` for losses that sample (masking). Returns the loss of every step.
public func trainLanguageModel<Model: Module>(_ model: Model, recipe: TrainingRecipe, corpus: [Int], dataSeed: UInt64,
                                              loss: (Model, [Int], Int, inout RNG) -> Tensor,
                                              onStep: ((Int, Float) -> Void)? = nil) -> [Float] {
    let span = recipe.length + 1
    precondition(corpus.count >= span, "trainLanguageModel: a corpus of \(corpus.count) tokens is shorter than one window of \(span)")
    let parameters = model.parameters
    let optimizer = AdamW(parameters: parameters, learningRate: recipe.learningRate, beta1: 0.9, beta2: 0.95,
                          weightDecay: recipe.weightDecay)
    let schedule = CosineSchedule(totalSteps: recipe.steps, warmupSteps: recipe.warmupSteps, finalFactor: recipe.finalFactor)
    var dataRNG = RNG(seed: dataSeed)
    var noiseRNG = RNG(seed: dataSeed).derived("noise")
    var losses: [Float] = []
    for step in 0..<recipe.steps {
        var ids: [Int] = []
        ids.reserveCapacity(recipe.batchSize * span)
        for _ in 0..<recipe.batchSize {
            let start = dataRNG.int(below: corpus.count - span + 1)
            ids += corpus[start..<start + span]
        }
        optimizer.learningRate = recipe.learningRate * schedule.factor(at: step)
        optimizer.zeroGrad()
        let value = loss(model, ids, step, &noiseRNG)
        value.backward()
        clipGradientNorm(parameters, maxNorm: recipe.clipNorm)
        optimizer.step()
        losses.append(value.item)
        onStep?(step, value.item)
    }
    return losses
}

/// Splits windows of length + 1 ids into inputs ids[0..<T] and next-token targets ids[1...T] (both [B·T]).
public func nextTokenPairs(windows ids: [Int], length: Int) -> (inputs: [Int], targets: [Int]) {
    let span = length + 1, batch = ids.count / span
    precondition(ids.count == batch * span, "nextTokenPairs: \(ids.count) ids are not whole windows of \(span)")
    var inputs: [Int] = [], targets: [Int] = []
    inputs.reserveCapacity(batch * length); targets.reserveCapacity(batch * length)
    for b in 0..<batch {
        inputs += ids[b * span..<b * span + length]
        targets += ids[b * span + 1..<b * span + span]
    }
    return (inputs, targets)
}

/// Autoregressive next-token cross-entropy (nats, mean over B·T positions) on windows of length + 1 ids.
public func autoregressiveLoss(_ model: some TokenSequenceModel, windows ids: [Int], length: Int) -> Tensor {
    let (inputs, targets) = nextTokenPairs(windows: ids, length: length)
    return crossEntropy(model.logits(inputs, batch: inputs.count / length, length: length), targets: targets)
}
