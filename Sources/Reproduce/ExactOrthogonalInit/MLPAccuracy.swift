import ExactOrthogonalInitCore
import Lab
import LabRun

struct MLPAccuracyStudy: Sendable {
    let calibration: Calibration
    let runs: [TrainedRun]
}

/// E3: MLP-7 (tanh, σ_w = 1, σ_b = 0) trained from the very networks E2 probed (`initial`), Dense and every
/// sparse method at every density, each seed; the learning rate calibrated once on Dense (first seed).
func mlpAccuracyStudy(_ plan: Plan, quiet: Bool, seeds: [Int], train: LabeledImages, validation: LabeledImages,
                      test: LabeledImages, initial: [JacobianNetwork]) throws -> MLPAccuracyStudy {
    let widths = plan.mlpWidths, aiSteps = plan.aiSteps
    func hidden(_ method: InitMethod, _ density: Double, _ seed: Int) throws -> [MaskedWeight] {
        guard let network = initial.first(where: { $0.method == method && $0.density == density && $0.seed == seed }),
              let weights = network.hiddenWeights else {
            throw LabError.invalidArgument("E3: no E2 network for \(method.label) at d = \(density), seed \(seed)")
        }
        return weights
    }
    let denseWeights = try hidden(.dense, 1, seeds[0])
    let setup: @Sendable (Double) -> TrainingSetup = { rate in TrainingSetup(epochs: plan.mlpEpochs, batchSize: 64, learningRate: rate) }
    let calibration = try calibrateLearningRate("E3", quiet: quiet, plan.learningRates) { rate in
        let model = try SparseMLP(widths: widths, activation: .tanh, method: .dense, density: 1, scale: .unit,
                                  aiSteps: aiSteps, rng: mlpNetworkRNG(seed: seeds[0]), hiddenWeights: denseWeights)
        return accuracyOrNaN(ExactOrthogonalInitCore.train(model, on: train, evaluateOn: validation, setup: setup(rate),
                                                           rng: RNG(seed: UInt64(seeds[0])).derived("E3/shuffle")))
    }
    var jobs: [@Sendable () throws -> TrainedRun] = []
    for seed in seeds {
        let grid = [(InitMethod.dense, 1.0)] + plan.mlpDensities.flatMap { d in InitMethod.sparse.map { ($0, d) } }
        for (method, density) in grid {
            let weights = try hidden(method, density, seed)
            jobs.append {
                let model = try SparseMLP(widths: widths, activation: .tanh, method: method, density: density,
                                          scale: .unit, aiSteps: aiSteps, rng: mlpNetworkRNG(seed: seed),
                                          hiddenWeights: weights)
                let outcome = ExactOrthogonalInitCore.train(model, on: train, evaluateOn: test,
                                                            setup: setup(calibration.chosen),
                                                            rng: RNG(seed: UInt64(seed)).derived("E3/shuffle"))
                return TrainedRun(method: method, density: density, seed: seed, depth: 0, dataset: "Fashion-MNIST",
                                  outcome: outcome, audit: LayerAudit())
            }
        }
    }
    return MLPAccuracyStudy(calibration: calibration, runs: try pooled("E3: training runs", quiet: quiet, jobs))
}
