import ExactOrthogonalInitCore
import Lab
import LabRun

struct DeepMLPStudy: Sendable {
    let calibration: Calibration
    let runs: [TrainedRun]
}

/// E5: deep tanh MLPs (width 64, d = 1/8, σ_w = 1.0247, σ_b = 0.00448, no residuals, no normalisation).
/// Depth D: every method on Fashion-MNIST; depth 2D: Dense, EOI and Base-standard; MNIST-5k at depth D:
/// Dense, Base-orth and EOI. The learning rate is calibrated once, on the depth-D Dense model on
/// Fashion-MNIST, and used for every run.
func deepMLPStudy(_ plan: Plan, quiet: Bool, seeds: [Int], fashion: (train: LabeledImages, validation: LabeledImages, test: LabeledImages),
                  mnist: (train: LabeledImages, test: LabeledImages)) throws -> DeepMLPStudy {
    let density = plan.deepDensity, aiSteps = plan.aiSteps
    let setup: @Sendable (Double) -> TrainingSetup = { rate in TrainingSetup(epochs: plan.deepEpochs, batchSize: 64, learningRate: rate) }
    @Sendable func network(_ method: InitMethod, depth: Int, seed: Int) throws -> (SparseMLP, LayerAudit) {
        let widths = plan.deepWidths(depth: depth)
        let rng = RNG(seed: UInt64(seed)).derived("deep-\(depth)")
        let hidden = try SparseMLP.hiddenLayers(widths: widths, method: method, density: density,
                                                scale: .tanhCritical, aiSteps: aiSteps, rng: rng)
        var audit = LayerAudit()
        for layer in hidden { try audit.record(method, layer, density: density, gain: InitScale.tanhCritical.weightGain) }
        let model = try SparseMLP(widths: widths, activation: .tanh, method: method, density: density,
                                  scale: .tanhCritical, aiSteps: aiSteps, rng: rng, hiddenWeights: hidden)
        return (model, audit)
    }
    let calibration = try calibrateLearningRate("E5", quiet: quiet, plan.learningRates) { rate in
        let (model, _) = try network(.dense, depth: plan.deepDepth, seed: seeds[0])
        return accuracyOrNaN(ExactOrthogonalInitCore.train(model, on: fashion.train, evaluateOn: fashion.validation,
                                                           setup: setup(rate),
                                                           rng: RNG(seed: UInt64(seeds[0])).derived("E5/shuffle")))
    }
    var grid: [(method: InitMethod, depth: Int, seed: Int, dataset: String)] = []
    // The longest runs first, so the two workers finish together.
    for seed in seeds.prefix(plan.deeperSeeds) {
        for method in [InitMethod.dense, .exactOrthogonal, .baseStandard] { grid.append((method, plan.deeperDepth, seed, "Fashion-MNIST")) }
    }
    for seed in seeds.prefix(plan.deepSeeds) {
        for method in [InitMethod.dense] + InitMethod.sparse { grid.append((method, plan.deepDepth, seed, "Fashion-MNIST")) }
    }
    for seed in seeds.prefix(plan.mnistSeeds) {
        for method in [InitMethod.dense, .baseOrthogonal, .exactOrthogonal] { grid.append((method, plan.deepDepth, seed, "MNIST-5k")) }
    }
    let jobs: [@Sendable () throws -> TrainedRun] = grid.map { method, depth, seed, dataset in
        {
            let (model, audit) = try network(method, depth: depth, seed: seed)
            let data = dataset == "MNIST-5k" ? (mnist.train, mnist.test) : (fashion.train, fashion.test)
            let outcome = ExactOrthogonalInitCore.train(model, on: data.0, evaluateOn: data.1, setup: setup(calibration.chosen),
                                                        rng: RNG(seed: UInt64(seed)).derived("E5/shuffle"))
            return TrainedRun(method: method, density: method == .dense ? 1 : density, seed: seed, depth: depth,
                              dataset: dataset, outcome: outcome, audit: audit)
        }
    }
    return DeepMLPStudy(calibration: calibration, runs: try pooled("E5: training runs", quiet: quiet, jobs))
}
