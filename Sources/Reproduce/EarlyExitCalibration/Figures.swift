import EarlyExitCalibrationCore
import Foundation
import Lab
import LabPlot
import LabReport

/// One colour per variant drawn in the curve figure, and per family in the correlation figure.
func color(of variant: Variant) -> Color {
    switch variant {
    case .base: return .black
    case .tsPerIC: return Color(hex: 0xff7f0e)
    case .vector: return Color(hex: 0x9467bd)
    case .hist5: return Color(hex: 0x8c564b)
    case .isotonic: return Color(hex: 0x2ca02c)
    case .tsAUC: return Color(hex: 0x17becf)
    case .ours: return Color(hex: 0x1f77b4)
    default: return .grey
    }
}

func color(of family: Variant.Family) -> Color {
    switch family {
    case .temperature: return Color(hex: 0xff7f0e)
    case .binning: return Color(hex: 0x8c564b)
    case .affine: return Color(hex: 0x9467bd)
    case .noise: return Color(hex: 0x7f7f7f)
    case .ours: return Color(hex: 0x1f77b4)
    }
}

/// ≈ paper Fig. 1: the toy's four cost–accuracy curves, metrics of IC1 in the legend.
func toyFigure(_ cases: [(ToyCase, ExitEvaluation)]) -> Figure {
    let figure = Figure(width: 7, height: 4.6, dpi: 130)
    let ax = figure[0, 0]
    let dashes: [Dash] = [.solid, .dashed, .dotted, .dashDot]
    for (i, (toy, evaluation)) in cases.enumerated() {
        ax.line(evaluation.curve.costs, evaluation.curve.accuracies,
                label: String(format: "%@: ECE %.4f, AUROC %.4f, EEFP* %.4f, AUC %.4f", toy.title, evaluation.ece[0], evaluation.auroc[0],
                             evaluation.eefp[0], evaluation.auc),
                color: Color.cycle[i], width: 2, dash: dashes[i], marker: .circle, markerSize: 4)
    }
    ax.title = "Toy: two exits (cost 0.5 and 1); equal ECE ≠ equal efficiency"
    ax.xlabel = "mean cost (fraction of the full pass)"
    ax.ylabel = "test accuracy"
    ax.ylim = 0.68...0.95
    ax.legend = .lowerRight
    return figure
}

/// Rank of each value among `values`, scaled to [0, 1] (mid-ranks for ties).
private func normalizedRanks(_ values: [Double]) -> [Double] {
    let n = Double(max(values.count - 1, 1))
    return Metrics.ranks(values).map { ($0 - 1) / n }
}

/// ≈ paper Fig. 2: top, IC1 rank-vs-rank scatter of seed 0 (baseline vs a calibrator, τ_b in the title);
/// bottom, ΔAUROC, ΔECE, ΔAUC (variant − base, non-final mean) and mean τ_b of every variant, mean ± std over seeds.
func rankingFigure(_ runs: [SeedRun]) -> Figure {
    let figure = Figure(rows: 2, cols: 4, width: 19, height: 9, dpi: 110)
    figure.suptitle = "Calibrators reorder samples inside an IC (top: IC1, seed \(runs[0].seed)); what that does to failure prediction, ECE and efficiency (bottom\(runs.count > 1 ? ": mean ± std over \(runs.count) seeds" : ""))"
    let first = runs[0], base = first.scores[.base]!.confidences[0]
    // At most 2,500 points per panel, the same samples in each.
    let stride = max(1, base.count / 2_500)
    let shown = Array(Swift.stride(from: 0, to: base.count, by: stride))
    let baseRanks = normalizedRanks(base)
    for (column, variant) in [Variant.tsPerIC, .vector, .hist5, .isotonic].enumerated() {
        let ax = figure[0, column]
        let ranks = normalizedRanks(first.scores[variant]!.confidences[0])
        ax.scatter(shown.map { baseRanks[$0] }, shown.map { ranks[$0] }, color: color(of: variant), size: 2.5, alpha: 0.5)
        ax.title = "\(variant.rawValue): τ_b = \(formatNumber(first.evaluations[variant]!.kendall[0]))"
        ax.xlabel = "rank of baseline confidence (0 = least confident)"
        ax.ylabel = "rank of \(variant.rawValue) confidence"
        ax.xlim = 0...1; ax.ylim = 0...1
    }
    let variants = Variant.allCases.filter { $0 != .base }
    let panels: [(String, (ExitEvaluation) -> Double, Bool)] = [
        ("ΔAUROC (failure prediction, IC mean)", \.meanAUROC, true), ("ΔECE (IC mean)", \.meanECE, true),
        ("ΔAUC of the cost–accuracy curve", \.auc, true), ("Kendall τ_b vs baseline (IC mean)", \.meanKendall, false),
    ]
    for (column, (title, value, isDelta)) in panels.enumerated() {
        let ax = figure[1, column]
        let perSeed = variants.map { variant in runs.map { isDelta ? $0.delta(variant, value) : value($0.evaluations[variant]!) } }
        ax.bar(variants.map(\.rawValue), perSeed.map { Metrics.mean($0) }, errors: runs.count > 1 ? perSeed.map { Metrics.std($0) } : nil,
               color: Color(hex: 0x4c72b0))
        ax.title = title
        ax.ylabel = isDelta ? "variant − base" : "τ_b"
        if isDelta { ax.horizontalLine(at: 0, color: .black) }
    }
    return figure
}

/// ≈ paper Fig. 3: test cost–accuracy curves, mean over seeds after interpolation on 200 costs in [c_1, 1];
/// ±1 std bands for base and ours; exit costs dotted.
func costAccuracyFigure(_ runs: [SeedRun], exitCosts: [Double]) -> Figure {
    let figure = Figure(rows: 1, cols: 2, width: 14, height: 5.2, dpi: 120)
    let grid = (0..<200).map { exitCosts[0] + (1 - exitCosts[0]) * Double($0) / 199 }
    let curves: [(Variant, [[Double]])] = [Variant.base, .tsPerIC, .vector, .hist5, .tsAUC, .ours].map { variant in
        (variant, runs.map { run in
            let curve = run.evaluations[variant]!.curve
            let line = PiecewiseLinearCurve(xs: curve.costs, ys: curve.accuracies)
            return grid.map { line.value(clampedAt: $0) }
        })
    }
    let allValues = curves.flatMap { $0.1.flatMap { $0 } }
    for (panel, range) in [(0, exitCosts[0]...1), (1, exitCosts[0]...0.7)].map({ ($0.0, $0.1) }) {
        let ax = figure[0, panel]
        for (variant, seedCurves) in curves {
            if variant == .base || variant == .ours, seedCurves.count > 1 {
                ax.meanBand(grid, runs: seedCurves, label: "\(variant.rawValue) (± std)", color: color(of: variant), width: 2)
            } else {
                ax.line(grid, (0..<grid.count).map { i in Metrics.mean(seedCurves.map { $0[i] }) }, label: variant.rawValue,
                        color: color(of: variant), width: 1.6, dash: variant == .hist5 ? .dashed : .solid)
            }
        }
        for (k, cost) in exitCosts.enumerated() where range.contains(cost) {
            ax.verticalLine(at: cost, label: k == 0 && panel == 0 ? "exit costs" : nil, color: Color(hex: 0x999999), dash: .dotted)
        }
        ax.xlim = range
        let visible = allValues.isEmpty ? [0.0, 1] : allValues
        ax.ylim = (max(0, (visible.min() ?? 0) - 0.01))...(min(1, (visible.max() ?? 1) + 0.01))
        ax.xlabel = "mean cost (fraction of the full pass's MACs)"
        ax.ylabel = "test accuracy"
        ax.title = panel == 0 ? "Cost–accuracy, mean over \(runs.count) seed(s)" : "Zoom on the cheap end (cost ≤ 0.7)"
        ax.legend = .lowerRight
    }
    return figure
}

/// ≈ paper Figs. 4–5: ΔAUC against ΔECE, ΔAUROC and ΔEEFP* (variant − same-seed base), one point per
/// (variant, seed), colour by family, Spearman ρ in each title.
func correlationFigure(_ runs: [SeedRun], correlations: (ece: Double, auroc: Double, eefp: Double)) -> Figure {
    let figure = Figure(rows: 1, cols: 3, width: 16, height: 5, dpi: 120)
    let variants = Variant.allCases.filter { $0 != .base }
    let panels: [(String, (ExitEvaluation) -> Double, Double)] = [
        ("ΔECE (IC mean)", \.meanECE, correlations.ece), ("ΔAUROC (IC mean)", \.meanAUROC, correlations.auroc),
        ("ΔEEFP* (our operationalisation, IC mean)", \.meanEEFP, correlations.eefp),
    ]
    for (column, (name, value, rho)) in panels.enumerated() {
        let ax = figure[0, column]
        for family in Variant.Family.allCases {
            let members = variants.filter { $0.family == family }
            let points = members.flatMap { variant in runs.map { ($0.delta(variant, value), $0.delta(variant, \.auc)) } }
            ax.scatter(points.map(\.0), points.map(\.1), label: family.rawValue, color: color(of: family), size: 6)
        }
        ax.horizontalLine(at: 0, color: Color(hex: 0xbbbbbb)); ax.verticalLine(at: 0, color: Color(hex: 0xbbbbbb))
        ax.title = "\(name): Spearman ρ = \(formatNumber(rho))"
        ax.xlabel = name + ", variant − base"
        ax.ylabel = "ΔAUC (variant − base)"
        ax.legend = column == 0 ? .auto : .hidden
    }
    return figure
}

/// Reliability diagrams (15 bins) of IC1 and the final exit, base vs ts-per-ic, seed 0: per bin a bar of
/// the accuracy (base left half, ts-per-ic right half) and the diagonal of perfect calibration.
func reliabilityFigure(_ run: SeedRun) -> Figure {
    let figure = Figure(rows: 1, cols: 2, width: 12, height: 5, dpi: 120)
    let bins = 15
    for (column, exit) in [0, 3].enumerated() {
        let ax = figure[0, column]
        for (half, variant) in [Variant.base, .tsPerIC].enumerated() {
            let scores = run.scores[variant]!
            let diagram = ReliabilityDiagram(confidences: scores.confidences[exit], correct: scores.correct[exit], bins: bins)
            var labelled = false
            for b in 0..<bins where diagram.counts[b] > 0 {
                let left = Double(b) / Double(bins) + Double(half) / Double(2 * bins)
                ax.band([left, left + 1 / Double(2 * bins)], [0, 0], [diagram.accuracies[b], diagram.accuracies[b]],
                        label: labelled ? nil : "\(variant.rawValue): ECE \(formatNumber(run.evaluations[variant]!.ece[exit]))",
                        color: color(of: variant), alpha: 0.55)
                labelled = true
            }
        }
        ax.line([0, 1], [0, 1], label: "perfect calibration", color: .black, width: 1, dash: .dashed)
        ax.xlim = 0...1; ax.ylim = 0...1
        ax.title = "\(exit == 0 ? "IC1" : "final exit"), seed \(run.seed): accuracy per confidence bin"
        ax.xlabel = "confidence (15 equal-width bins)"
        ax.ylabel = "accuracy in the bin"
        ax.legend = .upperLeft
    }
    return figure
}
