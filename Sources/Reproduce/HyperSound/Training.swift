import Foundation
import HyperSoundCore
import Lab
import LabRun

/// One HyperSound variant to train (docs/papers/hypersound.md §2 "Protocol").
struct Variant: Sendable {
    let name: String
    let kind: TargetKind
    /// L1 + MR-STFT (true) or L1 alone (the ablation).
    let spectralLoss: Bool
    /// Peak learning rate of the OneCycle schedule: 5e-4 NeRF, 1e-4 SIREN.
    let peakLearningRate: Float
    let steps: Int
    /// How the hypernetwork's heads start: around one target init (docs/papers/hypersound.md §3 "Hypernetwork"; the
    /// authors use this for SIREN and a fan-in rule for NeRF, which learnt slower here: §2).
    let outputInitialisation: HyperNetwork.OutputInitialisation
}

/// A trained model and its curves. The model is a class; it is handed from one job thread to the main flow
/// once training is over and never shared while it runs.
struct TrainedVariant: @unchecked Sendable {
    let variant: Variant
    let model: HyperSound
    /// Loss of every training step.
    let trainLoss: [Double]
    /// (step, L1 + MR-STFT loss on the test clips), every `evaluationInterval` steps and at the end.
    let testLoss: [(step: Int, loss: Double)]
    /// (step, gradient norm of each target layer's head (the rows of H's last layer that emit W_ℓ and b_ℓ), before
    /// clipping), every `evaluationInterval` steps and at the end.
    let headGradientNorms: [(step: Int, norms: [Double])]
    /// Wall time per step, and CPU time per step of the training thread (independent of other load on the machine).
    let secondsPerStep: Double, cpuSecondsPerStep: Double
}

/// The pipeline's sanity check: a model trained on a few fixed clips, measured on the same clips.
struct SanityFit: Sendable {
    let clips: Int, steps: Int
    /// Mean SI-SNR (dB) and mean MSE / mean MSE of the zero output over the clips.
    let scaleInvariantSNR: Double, mseRatio: Double

    init(clips references: [[Float]], steps: Int, estimates: [[Float]]) {
        let metrics = MeanMetrics(references: references, estimates: estimates)
        let zero = MeanMetrics(references: references, estimates: references.map { [Float](repeating: 0, count: $0.count) })
        clips = references.count
        self.steps = steps
        scaleInvariantSNR = metrics.scaleInvariantSNR ?? -.infinity
        mseRatio = metrics.meanSquaredError / zero.meanSquaredError
    }
}

/// The training loop of docs/papers/hypersound.md §3: AdamW (β 0.9/0.999, wd 1e-4), OneCycle (cosine, div 25, final div 1e4, 30%
/// warm-up), gradient-norm clip 1.0, batches of 8 random crops (one random training file each, with
/// replacement), loss L1 + MR-STFT (or L1 only).
func train(_ variant: Variant, trainFiles: [[Float]], testClips: [[Float]], batchSize: Int = 8,
           evaluationInterval: Int = 100, seed: Int, quiet: Bool) throws -> TrainedVariant {
    let root = RNG(seed: UInt64(seed)).derived("hypersound-\(variant.name)")
    var initRNG = root.derived("init"), batchRNG = root.derived("batches")
    let model = HyperSound(target: TargetNetwork(kind: variant.kind), outputInitialisation: variant.outputInitialisation,
                           rng: &initRNG)
    let parameters = model.parameters
    let optimizer = AdamW(parameters: parameters, learningRate: variant.peakLearningRate, weightDecay: 1e-4)
    let schedule = OneCycleSchedule(totalSteps: variant.steps)
    let progress = Progress("train \(variant.name)", total: variant.steps, quiet: quiet)
    var trainLoss: [Double] = [], testLoss: [(step: Int, loss: Double)] = []
    var headGradientNorms: [(step: Int, norms: [Double])] = []
    let length = HyperSoundClips.length
    let start = Date(), cpuStart = CPUTime.threadSeconds()
    for step in 1...variant.steps {
        var batch = [Float]()
        batch.reserveCapacity(batchSize * length)
        for _ in 0..<batchSize {
            batch += HyperSoundClips.trainingCrop(trainFiles[batchRNG.int(below: trainFiles.count)], rng: &batchRNG)
        }
        let x = Tensor(shape: [batchSize, length], data: batch)
        optimizer.zeroGrad()
        let loss = reconstructionLoss(prediction: model(x), target: x, spectral: variant.spectralLoss)
        try checkFinite(loss.item, what: "\(variant.name) training loss", step: step)
        loss.backward()
        let logged = step % evaluationInterval == 0 || step == variant.steps
        if logged { headGradientNorms.append((step, headGradientNorm(of: model))) }
        clipGradientNorm(parameters, maxNorm: 1)
        optimizer.learningRate = variant.peakLearningRate * schedule.factor(at: step - 1)
        optimizer.step()
        trainLoss.append(Double(loss.item))
        if logged {
            testLoss.append((step, meanLoss(of: model, on: testClips)))
        }
        progress.update(step, loss: Double(loss.item))
    }
    progress.finish()
    // The timed part includes the periodic test evaluations (a few percent of the steps' cost).
    let secondsPerStep = Date().timeIntervalSince(start) / Double(variant.steps)
    let cpuSecondsPerStep = (CPUTime.threadSeconds() - cpuStart) / Double(variant.steps)
    return TrainedVariant(variant: variant, model: model, trainLoss: trainLoss, testLoss: testLoss,
                          headGradientNorms: headGradientNorms, secondsPerStep: secondsPerStep, cpuSecondsPerStep: cpuSecondsPerStep)
}

/// ‖∂L/∂(head of layer ℓ)‖ for each target layer ℓ: the Frobenius norm of the gradient of the rows of H's last
/// layer (weights and bias) that emit W_ℓ and b_ℓ.
func headGradientNorm(of model: HyperSound) -> [Double] {
    let output = model.hypernetwork.output
    guard let weightGradient = output.weight.grad, let biasGradient = output.bias?.grad else { return [] }
    let width = output.weight.shape[1]
    return model.target.layers.map { layer in
        var total = 0.0
        for j in layer.weightOffset..<layer.end {
            total += Double(biasGradient.data[j]) * Double(biasGradient.data[j])
            for i in 0..<width { let g = Double(weightGradient.data[j * width + i]); total += g * g }
        }
        return total.squareRoot()
    }
}

/// Mean L1 + MR-STFT loss over clips (in chunks of 16, no tape).
func meanLoss(of model: HyperSound, on clips: [[Float]]) -> Double {
    var total = 0.0
    for (chunk, reconstructions) in zip(chunks(clips), chunks(reconstruct(clips, with: model))) {
        let target = Tensor(shape: [chunk.count, HyperSoundClips.length], data: chunk.flatMap { $0 })
        let estimate = Tensor(shape: target.shape, data: reconstructions.flatMap { $0 })
        total += Double(noGrad { reconstructionLoss(prediction: estimate, target: target) }.item) * Double(chunk.count)
    }
    return total / Double(clips.count)
}

/// HyperSound's one-shot reconstructions x̂ = T(·; H(E(x))), in chunks of 16, no tape.
func reconstruct(_ clips: [[Float]], with model: HyperSound) -> [[Float]] {
    chunks(clips).flatMap { chunk in
        noGrad { rows(of: model(Tensor(shape: [chunk.count, HyperSoundClips.length], data: chunk.flatMap { $0 }))) }
    }
}

/// The generated parameters θ = H(E(x)) of each clip, in chunks of 16, no tape.
func generatedParameters(_ clips: [[Float]], with model: HyperSound) -> [[Float]] {
    chunks(clips).flatMap { chunk in
        noGrad { rows(of: model.theta(for: Tensor(shape: [chunk.count, HyperSoundClips.length], data: chunk.flatMap { $0 }))) }
    }
}

/// Renders θ vectors through the model's target network.
func render(_ thetas: [[Float]], with model: HyperSound) -> [[Float]] {
    chunks(thetas).flatMap { chunk in
        noGrad { rows(of: model.render(Tensor(shape: [chunk.count, model.target.parameterCount], data: chunk.flatMap { $0 }))) }
    }
}

func chunks<T>(_ items: [T], size: Int = 16) -> [[T]] {
    stride(from: 0, to: items.count, by: size).map { Array(items[$0..<min(items.count, $0 + size)]) }
}

/// The rows of a [R, C] tensor.
func rows(of tensor: Tensor) -> [[Float]] {
    let width = tensor.shape[1]
    return (0..<tensor.shape[0]).map { Array(tensor.data[($0 * width)..<(($0 + 1) * width)]) }
}

/// Milliseconds per clip of `body`, run once to warm up and then `repetitions` times.
func millisecondsPerCall(repetitions: Int, _ body: () -> Void) -> Double {
    body()
    let start = Date()
    for _ in 0..<repetitions { body() }
    return Date().timeIntervalSince(start) * 1_000 / Double(repetitions)
}
