import ExactOrthogonalInitCore
import Foundation
import Lab

/// "1/32", "1/4", "0.9", "1": densities as the paper writes them.
func densityText(_ d: Double) -> String {
    if d == 1 { return "1" }
    let inverse = 1 / d
    return inverse == inverse.rounded() ? "1/\(Int(inverse))" : String(format: "%g", d)
}

/// "87.3 ± 0.4" (percent) from accuracies in [0, 1].
func percentText(_ values: [Double]) -> String {
    let m = Metrics.mean(values, nonFinite: .skip)
    guard m.isFinite else { return "diverged" }
    return values.count > 1 ? String(format: "%.1f ± %.1f", 100 * m, 100 * Metrics.std(values, nonFinite: .skip)) : String(format: "%.1f", 100 * m)
}

extension Array where Element == TrainedRun {
    /// The runs of one method (and density, depth, dataset when given).
    func matching(_ method: InitMethod, density: Double? = nil, depth: Int? = nil, dataset: String? = nil) -> [TrainedRun] {
        filter { run in
            run.method == method && (density.map { run.density == $0 } ?? true) && (depth.map { run.depth == $0 } ?? true)
                && (dataset.map { run.dataset == $0 } ?? true)
        }
    }

    /// Test accuracies in seed order, each measured on the model as it stands after training (a run whose
    /// loss became non-finite stopped there and is listed by `divergenceText`).
    var accuracies: [Double] { map(\.outcome.accuracy) }

    /// Mean test accuracy over the runs, in percent.
    var meanPercent: Double { 100 * Metrics.mean(accuracies, nonFinite: .skip) }
}

/// A sentence naming the runs whose training loss became non-finite, or nil when none did.
func divergenceText(_ runs: [TrainedRun]) -> String? {
    let diverged = runs.filter { $0.outcome.divergedAtStep != nil }
    guard !diverged.isEmpty else { return nil }
    return "Training diverged (non-finite loss; stopped and evaluated as it stood) for: " + diverged.map { run in
        "\(run.method.label) d = \(densityText(run.density))\(run.depth > 0 ? " depth \(run.depth)" : "") seed \(run.seed) at step \(run.outcome.divergedAtStep!)"
    }.joined(separator: "; ") + "."
}

/// A moving average of `window` steps (shorter at the start), to draw noisy mini-batch losses.
func movingAverage(_ values: [Double], window: Int) -> [Double] {
    var out: [Double] = [], sum = 0.0
    for (i, v) in values.enumerated() {
        sum += v
        if i >= window { sum -= values[i - window] }
        out.append(sum / Double(Swift.min(i + 1, window)))
    }
    return out
}

/// The density of `grid` closest to `target` on a log scale (the design's density, or the nearest one a
/// smoke run has).
func nearestDensity(_ target: Double, in grid: [Double]) -> Double {
    grid.min { abs(log2($0 / target)) < abs(log2($1 / target)) }!
}
