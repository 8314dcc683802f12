import Foundation
import Lab

/// The 17 confidence variants of docs/papers/early-exit-calibration.md §3 (the baseline and 16 others).
/// Every one is fitted on the validation split's logits of the same seed and applied to the test split.
/// Variants that change only confidences keep the predictions; logit variants recompute ŷ_k = argmax z'.
public enum Variant: String, CaseIterable, Sendable {
    case base
    case tsGlobal = "ts-global", tsPerIC = "ts-per-ic", vector, platt, hist5, hist15, isotonic
    case temp0_25 = "temp-0.25", temp0_5 = "temp-0.5", temp2 = "temp-2", temp4 = "temp-4"
    case noise0_05 = "noise-0.05", noise0_1 = "noise-0.1", noise0_2 = "noise-0.2"
    case tsAUC = "ts-auc", ours

    /// Colour groups of the correlation figure.
    public enum Family: String, CaseIterable, Sendable {
        case temperature = "temperature-based", binning, affine = "vector/platt", noise, ours = "ours/ts-auc"
    }

    public var family: Family? {
        switch self {
        case .base: return nil
        case .tsGlobal, .tsPerIC, .temp0_25, .temp0_5, .temp2, .temp4: return .temperature
        case .hist5, .hist15, .isotonic: return .binning
        case .vector, .platt: return .affine
        case .noise0_05, .noise0_1, .noise0_2: return .noise
        case .tsAUC, .ours: return .ours
        }
    }

    /// Whether the variant rescales logits (and may therefore change predictions: only `vector` can).
    public var keepsPredictions: Bool { self != .vector }
}

/// Settings of the fits that need them.
public struct VariantSettings: Sendable {
    /// Thresholds (uniform, quantile counts) of the curves ts-auc maximises on the validation split.
    public var curveThresholds: (uniform: Int, quantiles: Int) = (501, 999)
    /// Full-batch Adam steps of vector scaling (lr 0.01).
    public var vectorSteps = 500
    public var exitCosts: [Double]

    public init(exitCosts: [Double]) { self.exitCosts = exitCosts }
}

extension Variant {
    /// Fits this variant on `validation` and returns its test scores. `rng` seeds the noise variants.
    public func apply(validation: ExitLogits, test: ExitLogits, settings: VariantSettings, rng: RNG) throws -> ExitScores {
        let testBase = ExitScores(logits: test)
        switch self {
        case .base:
            return testBase
        case .tsGlobal:
            let t = fittedTemperature(validation.exits, labels: validation.labels)
            return ExitScores(logits: test.scaled(byTemperatures: Array(repeating: t, count: test.exits.count)))
        case .tsPerIC:
            let ts = validation.exits.map { fittedTemperature([$0], labels: validation.labels) }
            return ExitScores(logits: test.scaled(byTemperatures: ts))
        case .temp0_25, .temp0_5, .temp2, .temp4:
            let t = [Variant.temp0_25: 0.25, .temp0_5: 0.5, .temp2: 2, .temp4: 4][self]!
            return ExitScores(logits: test.scaled(byTemperatures: Array(repeating: t, count: test.exits.count)))
        case .vector:
            let fits = validation.exits.map { VectorScaling(fitting: $0, labels: validation.labels, steps: settings.vectorSteps) }
            return ExitScores(logits: ExitLogits(exits: zip(fits, test.exits).map { fit, rows in rows.map(fit.apply) }, labels: test.labels))
        case .platt, .hist5, .hist15, .isotonic:
            let validationBase = ExitScores(logits: validation)
            let correct = validationBase.correct
            var scores = testBase
            for k in 0..<scores.exitCount {
                let s = validationBase.confidences[k]
                let map: (Double) -> Double
                switch self {
                case .platt:
                    let fit = try LogisticRegression.fit(features: Matrix(rows: s.count, cols: 1, data: s.map(clippedLogit)),
                                                         labels: correct[k], l2: 1e-3)
                    map = { fit.probability([clippedLogit($0)]) }
                case .hist5, .hist15:
                    let binning = HistogramBinning(scores: s, outcomes: correct[k], bins: self == .hist5 ? 5 : 15)
                    map = binning.predict
                default:
                    let fit = IsotonicRegression(x: s, y: correct[k].map { $0 ? 1 : 0 })
                    map = fit.predict
                }
                scores.confidences[k] = scores.confidences[k].map(map)
            }
            return scores
        case .noise0_05, .noise0_1, .noise0_2:
            let sigma = [Variant.noise0_05: 0.05, .noise0_1: 0.1, .noise0_2: 0.2][self]!
            var scores = testBase
            for k in 0..<scores.exitCount {
                var noise = rng.derived("noise/exit\(k)")
                scores.confidences[k] = scores.confidences[k].map { min(1, max(1e-6, $0 + sigma * noise.normal())) }
            }
            return scores
        case .tsAUC:
            let ts = aucTunedTemperatures(validation, settings: settings)
            return ExitScores(logits: test.scaled(byTemperatures: ts))
        case .ours:
            let validationBase = ExitScores(logits: validation), safe = validationBase.safe
            var scores = testBase
            for k in 0..<(scores.exitCount - 1) {
                let train = safetyFeatures(validation.exits[k])
                let standardizer = Standardizer(fitting: train)
                let fit = try LogisticRegression.fit(features: standardizer.transform(train), labels: safe[k], l2: 1e-3)
                scores.confidences[k] = fit.probabilities(standardizer.transform(safetyFeatures(test.exits[k])))
            }
            return scores
        }
    }
}

/// logit(s) with s clipped to [1e-12, 1 − 1e-12] (Platt scaling's input).
func clippedLogit(_ s: Double) -> Double {
    let p = min(1 - 1e-12, max(1e-12, s))
    return log(p / (1 - p))
}

/// The temperature T minimising the summed NLL of z/T over all rows of `exits` (golden section on
/// log T ∈ [log 0.05, log 20]).
public func fittedTemperature(_ exits: [[[Double]]], labels: [Int]) -> Double {
    let logT = Minimizer.goldenSection(over: log(0.05)...log(20), tolerance: 1e-6) { logT in
        let t = exp(logT)
        var total = 0.0
        for rows in exits { for (row, y) in zip(rows, labels) { total += SoftmaxSummary.negativeLogLikelihood(row.map { $0 / t }, label: y) } }
        return total
    }.argument
    return exp(logT)
}

/// Per-exit T_k maximising the validation AUC: coordinate ascent over T_k ∈ {2^(i/4) : i = −8...12},
/// 3 sweeps over the non-final exits, starting from T = 1 (a tie keeps the current T). The final exit's T
/// stays 1: its confidence never decides an exit.
public func aucTunedTemperatures(_ validation: ExitLogits, settings: VariantSettings) -> [Double] {
    let grid = (-8...12).map { pow(2, Double($0) / 4) }
    var temperatures = [Double](repeating: 1, count: validation.exits.count)
    var scores = ExitScores(logits: validation)
    func auc(_ scores: ExitScores) -> Double {
        let nonFinal = Array(scores.confidences.dropLast())
        return EarlyExitCurve(confidences: scores.confidences, correct: scores.correct, exitCosts: settings.exitCosts,
                              thresholds: EarlyExitCurve.thresholds(pooling: nonFinal, uniformCount: settings.curveThresholds.uniform,
                                                                    quantileCount: settings.curveThresholds.quantiles)).area
    }
    var best = auc(scores)
    for _ in 0..<3 {
        for k in 0..<(validation.exits.count - 1) {
            for t in grid where t != temperatures[k] {
                var candidate = scores
                candidate.confidences[k] = validation.exits[k].map { SoftmaxSummary($0.map { $0 / t }).maxProbability }
                let value = auc(candidate)
                if value > best { best = value; temperatures[k] = t; scores = candidate }
            }
        }
    }
    return temperatures
}

/// The features of "ours" for one exit's logit rows: [s, top-1 − top-2 softmax, H/ln C, top-1 − top-2
/// logit] per row: [N, 4].
public func safetyFeatures(_ rows: [[Double]]) -> Matrix {
    Matrix(rows: rows.count, cols: 4, data: rows.flatMap { row in
        let summary = SoftmaxSummary(row)
        return [summary.maxProbability, summary.probabilityMargin, summary.normalizedEntropy, summary.logitMargin]
    })
}

/// Vector scaling (Guo et al. 2017): z' = w ⊙ z + b per class, fitted by full-batch Adam (lr 0.01) on the
/// mean NLL from w = 1, b = 0.
public struct VectorScaling: Sendable {
    public let scale: [Double]
    public let shift: [Double]

    public init(fitting rows: [[Double]], labels: [Int], steps: Int) {
        let classes = rows[0].count
        let z = Tensor(shape: [rows.count, classes], data: rows.flatMap { $0.map(Float.init) })
        let w = Tensor(shape: [1, classes], data: [Float](repeating: 1, count: classes), requiresGrad: true)
        let b = Tensor(shape: [1, classes], data: [Float](repeating: 0, count: classes), requiresGrad: true)
        let optimizer = Adam(parameters: [w, b], learningRate: 0.01)
        for _ in 0..<steps {
            let loss = crossEntropy(z * w + b, targets: labels)
            optimizer.zeroGrad()
            loss.backward()
            optimizer.step()
        }
        scale = w.data.map(Double.init)
        shift = b.data.map(Double.init)
    }

    public func apply(_ row: [Double]) -> [Double] { (0..<row.count).map { row[$0] * scale[$0] + shift[$0] } }
}
