import ExpertSimCore
import Lab
import LabRun

/// Every size of a run at one scale (docs/papers/expertsim.md §2), and the seeds each model trains with.
struct Plan: Sendable {
    let scale: Scale
    let trainConditions: Int, testConditions: Int
    let config: TrainingConfig
    let draws: Int
    /// Seeds of ExpertSim and B1; B2 and B3 use `baselineSeeds` (the first two, as the design plans).
    let seeds: [Int], baselineSeeds: [Int]
    /// Test events of the per-epoch WS curve.
    let curveEvents = 300
    /// Fresh conditions the MC is timed on; single images the batch-1 timing generates.
    let timingConditions: Int, batchOneImages: Int
    /// The large batch of the generator timing (design: 256; smoke 64).
    let timingBatch: Int
    let simulationThreads = 2, trainingWorkers = 2
    /// The wall-time budget of docs/papers/expertsim.md §2 (smoke 30 s, full 8 min on 2 cores).
    let budgetSeconds: Double
    /// Count-only resamples behind the sim-heterogeneous evidence: training sets of this run's size, and the
    /// events of the "population" medians.
    let contrastTrainingSets: Int, contrastPopulationEvents: Int

    init(scale: Scale, seeds: [Int]) {
        self.scale = scale
        switch scale {
        case .smoke:
            (trainConditions, testConditions) = (150, 50)
            config = TrainingConfig(epochs: 2, batchSize: 32)
            draws = 1
            self.seeds = [seeds[0]]
            baselineSeeds = [seeds[0]]
            (timingConditions, batchOneImages, timingBatch) = (40, 8, 64)
            (contrastTrainingSets, contrastPopulationEvents) = (10, 20_000)
            budgetSeconds = 30
        case .full:
            (trainConditions, testConditions) = (1500, 500)
            // The design's plan without its cut rule: B2 and B3 train two seeds, every model the design's 8 epochs.
            config = TrainingConfig(epochs: Self.fullEpochs, batchSize: 64)
            draws = 3
            self.seeds = seeds
            baselineSeeds = Array(seeds.prefix(2))
            (timingConditions, batchOneImages, timingBatch) = (300, 32, 256)
            (contrastTrainingSets, contrastPopulationEvents) = (200, 200_000)
            budgetSeconds = 8 * 60
        }
    }

    /// Full-scale epochs (the design's 8).
    static let fullEpochs = 8

    /// Optimiser steps per model (the last, partial batch of an epoch included).
    var trainingSteps: Int {
        let events = 2 * trainConditions
        return config.epochs * ((events + config.batchSize - 1) / config.batchSize)
    }

    /// Every model to train, the costliest first so that two workers finish together.
    var modelSpecs: [ModelSpec] {
        baselineSeeds.map(ModelSpec.singleWide) + seeds.map(ModelSpec.expertSim)
            + baselineSeeds.map(ModelSpec.randomRouting) + seeds.map(ModelSpec.singleSmall)
    }
}
