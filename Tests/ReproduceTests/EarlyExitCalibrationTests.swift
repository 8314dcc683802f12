import EarlyExitCalibrationCore
import Foundation
import Lab
import Testing

@Suite struct EarlyExitCalibrationTests {
    /// Every toy number against the analytic values of docs/papers/early-exit-calibration.md §3.
    @Test func toyMatchesTheAnalyticValues() {
        for toy in ToyCase.allCases {
            let scores = toy.scores
            let evaluation = ExitEvaluation(scores, baseline: scores, exitCosts: ToyCase.exitCosts, thresholds: (501, 999))
            let expected = toy.expected
            #expect(abs(evaluation.auc - expected.auc) < 1e-9, "\(toy) AUC \(evaluation.auc)")
            #expect(abs(evaluation.ece[0] - expected.ece) < 1e-9, "\(toy) ECE \(evaluation.ece[0])")
            #expect(abs(evaluation.auroc[0] - expected.auroc) < 1e-9, "\(toy) AUROC \(evaluation.auroc[0])")
            #expect(abs(evaluation.eefp[0] - expected.eefp) < 1e-9, "\(toy) EEFP* \(evaluation.eefp[0])")
        }
    }

    @Test func modelShapesAndExitCosts() {
        var rng = RNG(seed: 0)
        let model = EarlyExitCNN(rng: &rng)
        let logits = model.exits(Tensor.randn([2, 1, 28, 28], rng: &rng))
        #expect(logits.map(\.shape) == Array(repeating: [2, 10], count: 4))
        #expect(model.exitCosts.exitMACs == [572_320, 1_478_368, 1_932_832, 2_400_096])
        #expect(model.block1a.bias!.data.allSatisfy { $0 == 0 } && model.finalHead.bias!.data.allSatisfy { $0 == 0 })
    }

    /// safe_k = exit k right, or no later exit right; the last exit is always safe (nothing comes after it).
    @Test func safeLabels() {
        // Three exits, four samples; correctness per exit: x0 R R R, x1 W R W, x2 W W W, x3 R W R.
        let scores = ExitScores(confidences: Array(repeating: [0.5, 0.5, 0.5, 0.5], count: 3),
                                predictions: [[0, 1, 1, 0], [0, 0, 1, 1], [0, 1, 1, 0]], labels: [0, 0, 0, 0])
        #expect(scores.safe == [[true, false, true, true], [true, true, true, false], [true, true, true, true]])
    }

    @Test func softmaxSummary() {
        let summary = SoftmaxSummary([log(1), log(3), log(6)])   // probabilities 0.1, 0.3, 0.6
        #expect(summary.predicted == 2)
        #expect(abs(summary.maxProbability - 0.6) < 1e-12 && abs(summary.probabilityMargin - 0.3) < 1e-12)
        #expect(abs(summary.logitMargin - log(2)) < 1e-12)
        let entropy = -(0.1 * log(0.1) + 0.3 * log(0.3) + 0.6 * log(0.6)) / log(3)
        #expect(abs(summary.normalizedEntropy - entropy) < 1e-12)
        #expect(abs(SoftmaxSummary.negativeLogLikelihood([log(1), log(3), log(6)], label: 1) - (-log(0.3))) < 1e-12)
    }

    /// Labels drawn from softmax(z / 2.5): the NLL-optimal temperature on z is close to 2.5.
    @Test func temperatureScalingRecoversAKnownTemperature() {
        var rng = RNG(seed: 3)
        let rows = (0..<4_000).map { _ in (0..<5).map { _ in 4 * rng.normal() } }
        let labels = rows.map { row -> Int in
            let p = row.map { exp($0 / 2.5) }
            return rng.categorical(p)
        }
        let t = fittedTemperature([rows], labels: labels)
        #expect(abs(t - 2.5) < 0.2, "fitted T = \(t)")
    }

    /// Variants other than vector keep predictions; platt and isotonic never reverse the baseline's order (temperature
    /// scaling may: the max-softmax of z/T is not a monotone function of the max-softmax of z; nor is histogram binning,
    /// whose bin accuracies need not increase).
    @Test func variantsKeepPredictionsAndOrder() throws {
        var rng = RNG(seed: 4)
        func split(_ n: Int) -> ExitLogits {
            let labels = (0..<n).map { _ in rng.int(below: 4) }
            let exits = (0..<3).map { k in labels.map { y in (0..<4).map { c in rng.normal() * 2 + (c == y ? Double(k + 1) : 0) } } }
            return ExitLogits(exits: exits, labels: labels)
        }
        let validation = split(400), test = split(300)
        var settings = VariantSettings(exitCosts: [0.3, 0.6, 1])
        settings.curveThresholds = (21, 19)
        settings.vectorSteps = 50
        let base = ExitScores(logits: test)
        for variant in Variant.allCases {
            let scores = try variant.apply(validation: validation, test: test, settings: settings, rng: RNG(seed: 1))
            #expect(scores.confidences.allSatisfy { $0.allSatisfy { $0 >= 0 && $0 <= 1 } }, "\(variant)")
            if variant.keepsPredictions { #expect(scores.predictions == base.predictions, "\(variant)") }
            if [.platt, .isotonic].contains(variant) {
                for k in 0..<3 {
                    let order = base.confidences[k].indices.sorted { base.confidences[k][$0] < base.confidences[k][$1] }
                    let mapped = order.map { scores.confidences[k][$0] }
                    #expect(zip(mapped, mapped.dropFirst()).allSatisfy { $0 <= $1 + 1e-12 }, "\(variant) exit \(k)")
                }
            }
        }
        let temperatures = aucTunedTemperatures(validation, settings: settings)
        let grid = Set((-8...12).map { pow(2, Double($0) / 4) })
        #expect(temperatures.last == 1 && temperatures.allSatisfy { grid.contains($0) })
    }

    /// Vector scaling from w = 1, b = 0 lowers the NLL of logits whose classes are shifted.
    @Test func vectorScalingLowersNLL() {
        var rng = RNG(seed: 6)
        let labels = (0..<500).map { _ in rng.int(below: 3) }
        let rows = labels.map { y in (0..<3).map { c in rng.normal() + (c == y ? 2 : 0) + (c == 0 ? 1.5 : 0) } }
        let fit = VectorScaling(fitting: rows, labels: labels, steps: 300)
        func nll(_ rows: [[Double]]) -> Double { zip(rows, labels).reduce(0) { $0 + SoftmaxSummary.negativeLogLikelihood($1.0, label: $1.1) } }
        #expect(nll(rows.map(fit.apply)) < nll(rows) - 10)
        #expect(fit.shift[0] < fit.shift[1])
    }
}
