import EarlyExitCalibrationCore
import Foundation
import Lab
import LabData
import LabRun

/// One seed's data draw.
struct SeedData {
    let train: ImageDataset
    let validation: ImageDataset
}

/// One seed's trained network and every variant evaluated on its test split.
struct SeedRun {
    let seed: Int
    let epochLosses: [Double]
    let trainingSeconds: Double
    /// Test scores of every variant (exit order; the figures read a few of them).
    let scores: [Variant: ExitScores]
    let evaluations: [Variant: ExitEvaluation]
    /// Test predictions of each variant that differ from the baseline's, over all exits.
    let changedPredictions: [Variant: Int]
    let evaluationSeconds: Double

    var base: ExitEvaluation { evaluations[.base]! }

    /// variant − base of one summary.
    func delta(_ variant: Variant, _ value: (ExitEvaluation) -> Double) -> Double {
        value(evaluations[variant]!) - value(base)
    }
}

/// Official test split, and the seed's stratified train/validation draw from the official training file.
func loadTest(_ plan: Plan) throws -> (training: ImageDataset, test: ImageDataset) {
    let normalization = Normalization(mean: Plan.pixelMean, std: Plan.pixelStd)
    let (training, test) = try FashionMNIST.load()
    let testSplit = try plan.testPerClass.map { try test.firstPerClass($0) } ?? test
    return (training.normalized(normalization), testSplit.normalized(normalization))
}

func drawSeedData(from training: ImageDataset, plan: Plan, seed: Int) throws -> SeedData {
    var rng = RNG(seed: UInt64(seed)).derived("data")
    let parts = try training.stratifiedSplit(perClass: [plan.trainPerClass, plan.validationPerClass], rng: &rng)
    return SeedData(train: parts[0], validation: parts[1])
}

/// Trains the seed's network, collects validation and test logits, fits and evaluates every variant.
func runSeed(_ seed: Int, data: SeedData, test: ImageDataset, plan: Plan, exitCosts: [Double], quiet: Bool) throws -> SeedRun {
    let rng = RNG(seed: UInt64(seed))
    var initRNG = rng.derived("init")
    let model = EarlyExitCNN(rng: &initRNG)
    let progress = Progress("seed \(seed): training", total: plan.epochs, quiet: quiet)
    let start = Date()
    let losses = try train(model, on: data.train, setup: TrainingSetup(epochs: plan.epochs), rng: rng.derived("batches")) { epoch, loss in
        progress.update(epoch + 1, loss: loss)
    }
    progress.finish()
    let trainingSeconds = Date().timeIntervalSince(start)
    let validationLogits = exitLogits(of: model, on: data.validation), testLogits = exitLogits(of: model, on: test)

    let evaluationStart = Date()
    var settings = VariantSettings(exitCosts: exitCosts)
    settings.curveThresholds = plan.curveThresholds
    let baseline = ExitScores(logits: testLogits)
    var scores: [Variant: ExitScores] = [:], evaluations: [Variant: ExitEvaluation] = [:], changed: [Variant: Int] = [:]
    for variant in Variant.allCases {
        let variantScores = try variant.apply(validation: validationLogits, test: testLogits, settings: settings,
                                              rng: rng.derived("variant/\(variant.rawValue)"))
        scores[variant] = variantScores
        evaluations[variant] = ExitEvaluation(variantScores, baseline: baseline, exitCosts: exitCosts, thresholds: plan.curveThresholds)
        changed[variant] = zip(variantScores.predictions, baseline.predictions).reduce(0) { total, exit in
            total + zip(exit.0, exit.1).filter { $0 != $1 }.count
        }
    }
    return SeedRun(seed: seed, epochLosses: losses, trainingSeconds: trainingSeconds, scores: scores, evaluations: evaluations,
                   changedPredictions: changed, evaluationSeconds: Date().timeIntervalSince(evaluationStart))
}
