import ExactOrthogonalInitCore
import Lab
import LabRun

struct CNNAccuracyStudy: Sendable {
    let calibration: Calibration
    let runs: [TrainedRun]
}

/// The sparse methods of the CNN study: the paper's baselines for convolutions (Base = masked
/// delta-orthogonal, AI, SAO) and EOI; Base-standard, our own Gaussian baseline, is left out to fit the budget.
let cnnMethods: [InitMethod] = [.baseOrthogonal, .approximateIsometry, .saoStyle, .exactOrthogonal]

/// E4: the 5-conv tanh CNN (width 32, σ_w = 1.0247, σ_b = 0.00448), Dense (delta-orthogonal) and the
/// sparse methods at every density, each seed, batch 32; the learning rate calibrated once on Dense.
func cnnAccuracyStudy(_ plan: Plan, quiet: Bool, seeds: [Int], train: LabeledImages, validation: LabeledImages,
                      test: LabeledImages) throws -> CNNAccuracyStudy {
    let aiSteps = plan.aiSteps
    let setup: @Sendable (Double) -> TrainingSetup = { rate in
        TrainingSetup(epochs: plan.cnnEpochs, batchSize: 32, learningRate: rate)
    }
    @Sendable func network(_ method: InitMethod, _ density: Double, seed: Int) throws -> (SparseCNN, LayerAudit) {
        let rng = RNG(seed: UInt64(seed)).derived("cnn")
        let hidden = try SparseCNN.hiddenLayers(channels: 32, method: method, density: density, scale: .tanhCritical,
                                                aiSteps: aiSteps, rng: rng)
        var audit = LayerAudit()
        for kernel in hidden { try audit.record(method, kernel, density: density, gain: InitScale.tanhCritical.weightGain) }
        return (try SparseCNN(method: method, density: density, scale: .tanhCritical, aiSteps: aiSteps, rng: rng,
                              hiddenKernels: hidden), audit)
    }
    let calibration = try calibrateLearningRate("E4", quiet: quiet, plan.learningRates) { rate in
        let (model, _) = try network(.dense, 1, seed: seeds[0])
        return accuracyOrNaN(ExactOrthogonalInitCore.train(model, on: train, evaluateOn: validation, setup: setup(rate),
                                                           rng: RNG(seed: UInt64(seeds[0])).derived("E4/shuffle")))
    }
    var grid: [(method: InitMethod, density: Double, seed: Int)] = []
    for seed in seeds {
        grid.append((.dense, 1, seed))
        for density in plan.cnnDensities { for method in cnnMethods { grid.append((method, density, seed)) } }
    }
    let jobs: [@Sendable () throws -> TrainedRun] = grid.map { method, density, seed in
        {
            let (model, audit) = try network(method, density, seed: seed)
            let outcome = ExactOrthogonalInitCore.train(model, on: train, evaluateOn: test, setup: setup(calibration.chosen),
                                                        rng: RNG(seed: UInt64(seed)).derived("E4/shuffle"))
            return TrainedRun(method: method, density: density, seed: seed, depth: 0, dataset: "Fashion-MNIST",
                              outcome: outcome, audit: audit)
        }
    }
    return CNNAccuracyStudy(calibration: calibration, runs: try pooled("E4: training runs", quiet: quiet, jobs))
}
