import Foundation
import Lab
import LabRun
import StabilityGapCore

/// Curves and summaries read off the traces of several runs (seeds) of one setting, for figures and tables.
/// Runs of one setting share their evaluation points (N_t depends only on the data sizes), so seeds line up.
struct SeedGroup {
    var runs: [ContinualRunResult]

    var seeds: [Int] { runs.map(\.seed) }

    /// Task boundaries in global steps: Σ_{s<t} N_s for t = 1..<T.
    var taskBoundaries: [Double] {
        let steps = runs[0].trace(.linear).taskSteps
        return (1..<steps.count).map { Double(steps[0..<$0].reduce(0, +)) }
    }

    /// One curve per seed over the evaluation points selected by `include`: x = global step, y = `value`.
    func curves(_ head: EvaluationHead, include: (EvaluationPoint) -> Bool,
                value: (EvaluationPoint) -> Double) -> (x: [Double], runs: [[Double]]) {
        let reference = runs[0].trace(head)
        let x = reference.points.filter(include).map { Double(reference.globalStep(task: $0.task, step: $0.step)) }
        return (x, runs.map { $0.trace(head).points.filter(include).map(value) })
    }

    /// Accuracy on task 0 at every evaluation point.
    func taskZeroAccuracy(_ head: EvaluationHead) -> (x: [Double], runs: [[Double]]) {
        curves(head, include: { _ in true }, value: { $0.accuracy[0] })
    }

    /// Mean accuracy of the old tasks u < t at every evaluation point of tasks t ≥ 1.
    func oldTaskAccuracy(_ head: EvaluationHead) -> (x: [Double], runs: [[Double]]) {
        curves(head, include: { $0.task >= 1 }, value: { Metrics.mean(Array($0.accuracy[0..<$0.task])) })
    }

    /// Task-recency bias R(t, i) in percent at every evaluation point of tasks t ≥ 1.
    func recency(_ head: EvaluationHead) -> (x: [Double], runs: [[Double]]) {
        curves(head, include: { $0.task >= 1 }, value: { 100 * $0.recency })
    }

    /// The drop and recovery right after a switch: for every step i ≤ `maxStep` that is an evaluation point,
    /// acc_u(t, i) − acc_u(end(t−1)) averaged over u < t, t ≥ 1 and seeds.
    func gapZoom(_ head: EvaluationHead, maxStep: Int = 96) -> (steps: [Double], change: [Double]) {
        var changes = [Int: [Double]]()
        for run in runs {
            let trace = run.trace(head)
            for point in trace.points where point.task >= 1 && point.step <= maxStep {
                let before = trace.end(task: point.task - 1)
                for u in 0..<point.task { changes[point.step, default: []].append(point.accuracy[u] - before.accuracy[u]) }
            }
        }
        let steps = changes.keys.sorted()
        return (steps.map(Double.init), steps.map { Metrics.mean(changes[$0]!) })
    }

    /// Draws one mean ± std band per head of the curves `series` gives, with a dashed line at every task switch,
    /// on axes whose x is the global training step.
    func drawHeads(on axes: Axes, _ series: (EvaluationHead) -> (x: [Double], runs: [[Double]]),
                   title: String, ylabel: String, legend: LegendPlacement) {
        for head in EvaluationHead.allCases {
            let (x, perSeed) = series(head)
            axes.meanBand(x, runs: perSeed, label: head.rawValue, color: head.color, dash: head.dash)
        }
        for boundary in taskBoundaries { axes.verticalLine(at: boundary, dash: .dashed) }
        axes.title = title
        axes.xlabel = "global training step (updates; dashed: task switch)"
        axes.ylabel = ylabel
        axes.legend = legend
    }

    /// Every seed's summary of one head.
    func summaries(_ head: EvaluationHead) -> [HeadSummary] { runs.map { $0.trace(head).summary() } }

    /// Mean over seeds of one summary quantity.
    func mean(_ head: EvaluationHead, _ quantity: (HeadSummary) -> Double) -> Double {
        Metrics.mean(summaries(head).map(quantity))
    }

    /// Per seed, `quantity` of head `a` minus that of head `b`.
    func differences(_ a: EvaluationHead, _ b: EvaluationHead, _ quantity: (HeadSummary) -> Double) -> [Double] {
        zip(summaries(a), summaries(b)).map { quantity($0) - quantity($1) }
    }

    /// "mean ± std" over seeds (std only with two or more seeds).
    func meanAndSpread(_ head: EvaluationHead, _ quantity: (HeadSummary) -> Double, digits: Int = 1) -> TableCell {
        let values = summaries(head).map(quantity)
        let average = String(format: "%.\(digits)f", Metrics.mean(values))
        return values.count > 1 ? .text(average + " ± " + String(format: "%.\(digits)f", Metrics.std(values)))
                                : .text(average)
    }
}

/// Colours and dashes of the three heads, the same in every figure.
extension EvaluationHead {
    var color: Color {
        switch self {
        case .linear: return Color(hex: 0xD62728)
        case .nmc: return Color(hex: 0x1F77B4)
        case .oracle: return Color(hex: 0x2CA02C)
        }
    }

    var dash: Dash { self == .oracle ? .dashed : .solid }
}
