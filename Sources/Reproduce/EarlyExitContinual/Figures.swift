import EarlyExitContinualCore
import Foundation
import Lab
import LabPlot
import LabReport

let eeColor = Color(hex: 0x1f77b4), tlcColor = Color(hex: 0xd62728), baseColor = Color.black
let methodOrder: [ContinualMethodKind] = [.finetuning, .lwf, .replay, .joint]
let exitNames = ["IC1", "IC2", "IC3", "final"]
let taskNames = (1...Plan.taskCount).map { "task \($0)" }

/// A curve on `grid` (linear between points, clamped at its ends).
func resampled(_ curve: EarlyExitCurve, on grid: [Double]) -> [Double] {
    let line = PiecewiseLinearCurve(xs: curve.costs, ys: curve.accuracies)
    return grid.map { line.value(clampedAt: $0) }
}

/// ≈ paper Fig. 1 / the TLC figure: per method, the base network as a marker at cost 1 and the EE and EE+TLC
/// curves, mean over seeds after interpolation on 200 costs in [c_1, c_K], ± 1 std bands.
func costAccuracyFigure(_ study: Study) -> Figure {
    let figure = Figure(rows: 2, cols: 2, width: 13, height: 10, dpi: 120)
    figure.suptitle = "TAg accuracy after task \(Plan.taskCount) vs inference cost (\(study.seeds.count) seed\(study.seeds.count > 1 ? "s" : ""))"
    let costs = study.exitCosts
    let grid = (0..<200).map { costs[0] + (costs[costs.count - 1] - costs[0]) * Double($0) / 199 }
    for (index, method) in methodOrder.enumerated() {
        let ax = figure[index / 2, index % 2]
        let runs = study[method]
        let curves = runs.map { resampled($0.earlyExit.curve!, on: grid) }
        let corrected = runs.map { resampled($0.earlyExit.correctedCurve!, on: grid) }
        ax.meanBand(grid, runs: curves, label: "EE", color: eeColor, width: 2)
        ax.meanBand(grid, runs: corrected, label: "EE + TLC", color: tlcColor, width: 2, dash: .dashed)
        let base = runs.map(\.baseAccuracy)
        ax.errorbar([1.0], [Metrics.mean(base)], yerr: [runs.count > 1 ? Metrics.std(base) : 0], label: "base network",
                    color: baseColor, marker: .square, markerSize: 8, connected: false)
        for (k, c) in costs.enumerated() {
            ax.verticalLine(at: c, label: k == 0 ? "exit costs c_k" : nil, color: Color(hex: 0x999999), dash: .dotted)
        }
        let values = curves.flatMap { $0 } + corrected.flatMap { $0 } + base
        let low = max(0, (values.min()! - 0.05) * 20).rounded(.down) / 20
        let high = min(1, ((values.max()! + 0.04) * 20).rounded(.up) / 20)
        ax.ylim = low...high
        ax.xlim = 0.15...1.05
        ax.title = "\(method.rawValue)"
        ax.xlabel = "relative inference cost (MACs / base network)"
        ax.ylabel = "TAg test accuracy (all 5 tasks)"
        ax.legend = .lowerRight
    }
    return figure
}

/// ≈ the per-IC forgetting figure: for FT-EE and LwF-EE, TAg accuracy per exit and task after the last task
/// (mean over seeds, annotated), and TAw forgetting per exit (bars, mean ± std over seeds).
func icTaskFigure(_ study: Study) -> Figure {
    let figure = Figure(rows: 2, cols: 2, width: 13, height: 9, dpi: 120)
    figure.suptitle = "Per-exit accuracy and forgetting after task \(Plan.taskCount) (EE networks, mean over \(study.seeds.count) seed\(study.seeds.count > 1 ? "s" : ""))"
    for (row, method) in [ContinualMethodKind.finetuning, .lwf].enumerated() {
        let runs = study[method].map(\.earlyExit)
        let matrix = (0..<exitNames.count).map { k in
            (0..<Plan.taskCount).map { u in Metrics.mean(runs.map { $0.result.finalTaskAgnostic[k][u] }) }
        }
        let heat = figure[row, 0]
        heat.heatmap(matrix, colorMap: .viridis, range: 0...1, rowLabels: exitNames, columnLabels: taskNames,
                     annotationFormat: "%.2f", colorbarLabel: "TAg accuracy")
        heat.title = "\(method.rawValue)-EE: TAg accuracy per exit and task"
        heat.xlabel = "test data of task"
        heat.ylabel = "exit"
        let forgetting = (0..<exitNames.count).map { k in runs.map { $0.result.taskAwareForgetting(exit: k) } }
        let bars = figure[row, 1]
        bars.bar(exitNames, forgetting.map { Metrics.mean($0) }, errors: runs.count > 1 ? forgetting.map { Metrics.std($0) } : nil,
                 color: Color(hex: 0x4c72b0))
        bars.title = "\(method.rawValue)-EE: TAw forgetting per exit (tasks 1–\(Plan.taskCount - 1))"
        bars.xlabel = "exit"
        bars.ylabel = "TAw forgetting (accuracy drop, fraction)"
        bars.horizontalLine(at: 0, color: .black)
    }
    return figure
}

/// ≈ the confidence heatmap: LwF-EE of the first seed, (i) mean confidence of correct predictions and (ii) the share
/// of predictions per task, before and after TLC; the fitted bias per task; the share averaged over exits.
func recencyFigure(_ study: Study) -> Figure {
    let run = study[.lwf][0].earlyExit
    let figure = Figure(rows: 2, cols: 3, width: 18, height: 9.5, dpi: 110)
    figure.suptitle = "Task-recency bias of LwF-EE (seed \(run.seed)) before and after TLC"
    let before = run.outcomes, after = run.corrected!
    let confidenceRange = 0.0...1.0
    for (column, (name, outcomes)) in [("before TLC", before), ("after TLC", after)].enumerated() {
        let confidence = figure[0, column]
        confidence.heatmap(outcomes.correctConfidence.mean, colorMap: .viridis, range: confidenceRange, rowLabels: exitNames,
                           columnLabels: taskNames, annotationFormat: "%.2f", colorbarLabel: "mean max-softmax")
        confidence.title = "(i) confidence of correct predictions, \(name)"
        confidence.xlabel = "test data of task"
        confidence.ylabel = "exit"
        let share = figure[1, column]
        share.heatmap(outcomes.predictionShare, colorMap: .viridis, range: 0...1, rowLabels: exitNames, columnLabels: taskNames,
                      annotationFormat: "%.2f", colorbarLabel: "share of test images")
        share.title = "(ii) share of predictions per task, \(name)"
        share.xlabel = "predicted task"
        share.ylabel = "exit"
    }
    let correction = run.fit!.correction
    let bias = figure[0, 2]
    bias.bar(taskNames, (0..<Plan.taskCount).map(correction.bias(task:)), color: tlcColor)
    bias.title = "TLC bias per task: a = \(formatNumber(correction.a)), b = \(formatNumber(correction.b))"
    bias.xlabel = "task"
    bias.ylabel = "bias added to the task's logits"
    bias.horizontalLine(at: 0, color: .black)
    let shares = figure[1, 2]
    let meanShares = [before, after].map { outcomes in
        (0..<Plan.taskCount).map { u in Metrics.mean(outcomes.predictionShare.map { $0[u] }) }
    }
    shares.groupedBar(taskNames, series: [("before TLC", meanShares[0]), ("after TLC", meanShares[1])], colors: [eeColor, tlcColor])
    // Headroom above the bars for the legend.
    shares.ylim = 0...(1.45 * max(0.2, meanShares.flatMap { $0 }.max()!))
    shares.horizontalLine(at: 1 / Double(Plan.taskCount), label: "balanced (0.2)", color: .black)
    shares.title = "share of predictions per task, mean over exits"
    shares.xlabel = "predicted task"
    shares.ylabel = "share of test images"
    shares.legend = .upperLeft
    return figure
}

/// Overthinking per method (EE networks): the fraction of test images some IC gets right while the final exit is
/// wrong, and that count over the final exit's errors; mean ± std over seeds.
func overthinkingFigure(_ study: Study) -> Figure {
    let figure = Figure(rows: 1, cols: 2, width: 13, height: 4.8, dpi: 120)
    figure.suptitle = "Overthinking of EE networks after the last task"
    let panels: [(String, String, (ExitOutcomes) -> Double)] = [
        ("IC right, final exit wrong", "fraction of all test images", { $0.overthinking.fraction }),
        ("… as a fraction of the final exit's errors", "fraction of final-exit errors", { $0.overthinking.ofFinalErrors }),
    ]
    for (column, (title, ylabel, value)) in panels.enumerated() {
        let ax = figure[0, column]
        let perSeed = methodOrder.map { method in study[method].map { value($0.earlyExit.outcomes) } }
        ax.bar(methodOrder.map(\.rawValue), perSeed.map { Metrics.mean($0) },
               errors: study.seeds.count > 1 ? perSeed.map { Metrics.std($0) } : nil, color: Color(hex: 0x4c72b0))
        ax.title = title
        ax.xlabel = "method (EE network)"
        ax.ylabel = ylabel
    }
    return figure
}
