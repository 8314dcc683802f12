import ActivationSparsityCore
import Foundation
import Lab
import LabRun

/// One line of an r-vs-sparsity panel.
struct CurveLine {
    let curve: Curve
    let label: String
    let color: Color
    var width = 1.5
    var dash = Dash.solid
    var marker = Marker.circle
    var markerSize = 3.0
}

/// The panel every sparsity figure shares: r against achieved sparsity for each line, the r = 0.99 level of the
/// critical sparsity, and optionally a vertical marker (a critical sparsity s*).
func relativePerformancePanel(_ axes: Axes, _ lines: [CurveLine], title: String, marker: (x: Double, label: String?)? = nil) {
    for line in lines {
        axes.line(line.curve.sparsity, line.curve.relative, label: line.label, color: line.color, width: line.width,
                  dash: line.dash, marker: line.marker, markerSize: line.markerSize)
    }
    axes.horizontalLine(at: 0.99, label: "r = 0.99")
    if let marker { axes.verticalLine(at: marker.x, label: marker.label, color: .red, dash: .dashDot) }
    axes.title = title
    axes.xlabel = "achieved sparsity (fraction of zeros)"
    axes.ylabel = "relative performance r"
    axes.legend = .lowerLeft
}

/// Fig. 2: SmolLM2's pooled curve per target (thick) with its per-corpus curves (dotted) and the critical sparsity.
func sparsityCurvesFigure(_ pooled: [Curve], perCorpus: [[Curve]], corpora: [String]) -> Figure {
    let figure = Figure(rows: 1, cols: 5, width: 19, height: 4.2, dpi: 120, sharey: true)
    figure.suptitle = "SmolLM2-135M: relative performance vs activation sparsity (top-p, every FFN layer)"
    for (panel, curve) in pooled.enumerated() {
        var lines = [CurveLine(curve: curve, label: corpora.joined(separator: " + "), color: .blue, width: 2.5, markerSize: 4)]
        for (k, corpus) in corpora.enumerated() {
            lines.append(CurveLine(curve: perCorpus[k][panel], label: corpus, color: Color.cycle[k + 1], width: 1, dash: .dotted, marker: .none))
        }
        relativePerformancePanel(figure[0, panel], lines, title: "\(curve.target.rawValue): crit = \(String(format: "%.3f", curve.critical.sparsity))",
                                 marker: (curve.critical.sparsity, nil))
    }
    return figure
}

/// Rule comparison: top-p, top-k, max-p per target, with s*.
func rulesFigure(_ comparisons: [RuleComparison], windows: Int) -> Figure {
    let figure = Figure(rows: 1, cols: comparisons.count, width: 12, height: 4.4, dpi: 130, sharey: true)
    figure.suptitle = "SmolLM2-135M: sparsification rules compared on \(windows) windows"
    for (panel, comparison) in comparisons.enumerated() {
        let markers: [Marker] = [.circle, .square, .triangle]
        relativePerformancePanel(figure[0, panel], comparison.curves.enumerated().map { k, c in
            CurveLine(curve: c, label: c.rule, color: Color.cycle[k], marker: markers[k], markerSize: 4)
        }, title: "target: \(comparison.target.rawValue)", marker: (comparison.criticalSparsity, "s* = top-p crit"))
    }
    return figure
}

/// Fig. 2 across sizes: one line per ladder model, per target.
func ladderCurvesFigure(_ ladder: [LadderResult]) -> Figure {
    let figure = Figure(rows: 1, cols: 5, width: 19, height: 4.2, dpi: 120, sharey: true)
    figure.suptitle = "Char-LM ladder (KJV): relative performance vs activation sparsity per target (top-p)"
    for (panel, target) in SparsityTarget.allCases.enumerated() {
        relativePerformancePanel(figure[0, panel], ladder.enumerated().map { k, result in
            CurveLine(curve: result.curves[panel], label: "\(result.size.name) (\(result.parameters / 1000) k)", color: Color.cycle[k])
        }, title: target.rawValue)
    }
    return figure
}

/// (a) per-layer sparsity at one p per target; (b) single-layer r per layer against the all-layer r.
func layersFigure(profile: [(target: SparsityTarget, sparsity: [Double])], profileP: Double, singleLayers: [Int], singleR: [Double],
                  allLayerR: Double, singleP: Double) -> Figure {
    let figure = Figure(rows: 1, cols: 2, width: 13, height: 4.5, dpi: 130)
    let a = figure[0, 0]
    for (k, line) in profile.enumerated() {
        a.line(line.sparsity.indices.map(Double.init), line.sparsity, label: line.target.rawValue, color: Color.cycle[k], marker: .circle, markerSize: 3)
    }
    a.title = "(a) per-layer sparsity at top-p \(profileP)"
    a.xlabel = "layer"
    a.ylabel = "sparsity (fraction of zeros)"
    a.legend = .upperRight
    let b = figure[0, 1]
    b.line(singleLayers.map(Double.init), singleR, label: "only layer ℓ sparsified", color: .blue, marker: .circle, markerSize: 4)
    b.horizontalLine(at: allLayerR, label: "all layers sparsified", color: .red)
    b.title = "(b) all_inputs, top-p \(singleP): single-layer r"
    b.xlabel = "sparsified layer ℓ"
    b.ylabel = "relative performance r"
    b.legend = .lowerRight
    return figure
}

/// (a) SmolLM2's erank/n per layer per tensor; (b) the ladder's mean erank/n against size.
func erankFigure(smolLM2: [[Double]], ladder: [LadderResult]) -> Figure {
    let figure = Figure(rows: 1, cols: 2, width: 13, height: 4.5, dpi: 130)
    let a = figure[0, 0], b = figure[0, 1]
    for (k, point) in FFNHookPoint.allCases.enumerated() {
        a.line(smolLM2[k].indices.map(Double.init), smolLM2[k], label: point.rawValue, color: Color.cycle[k], marker: .circle, markerSize: 3)
        b.line(ladder.map { Double($0.parameters) }, ladder.map { $0.erank[k] }, label: point.rawValue, color: Color.cycle[k], marker: .circle, markerSize: 4)
    }
    a.title = "(a) SmolLM2-135M: erank/n per layer"
    a.xlabel = "layer"
    a.ylabel = "effective rank / width"
    a.legend = .upperRight
    b.xscale = .log10
    b.title = "(b) ladder: erank/n (mean over layers) vs size"
    b.xlabel = "parameters (log scale)"
    b.ylabel = "effective rank / width"
    b.legend = .upperRight
    return figure
}

/// Fig. 3: critical sparsity per target against the ladder's sizes, SmolLM2 (KJV-only r) as hollow markers.
func criticalVsSizeFigure(_ ladder: [LadderResult], meanCritical: [Double], smolLM2: [Curve], smolLM2Parameters: Int) -> Figure {
    let figure = Figure(width: 8.5, height: 5, dpi: 130)
    let axes = figure[0, 0]
    let params = ladder.map { Double($0.parameters) }
    for (k, target) in SparsityTarget.allCases.enumerated() {
        axes.line(params, ladder.map { $0.curves[k].critical.sparsity }, label: target.rawValue, color: Color.cycle[k], marker: .circle, markerSize: 5)
        axes.scatter([Double(smolLM2Parameters)], [smolLM2[k].critical.sparsity], color: Color.cycle[k], size: 9, marker: .circle, hollow: true)
    }
    axes.line(params, meanCritical, label: "mean over targets", color: .black, width: 2.5, dash: .dashed)
    axes.xscale = .log10
    axes.title = "Critical sparsity vs parameters (ladder L1-L4; hollow: SmolLM2-135M, KJV-only r)"
    axes.xlabel = "parameters (log scale)"
    axes.ylabel = "critical sparsity (r ≥ 0.99)"
    axes.legend = .auto   // the emptiest corner: where the lines sit moves with the seed
    return figure
}

/// The masked-diffusion figure: (a) AR vs diffusion tolerance, (b) sparsity per step, (c) mask Jaccard per step,
/// (d) consecutive Jaccard per layer × step.
func diffusionFigure(_ diffusion: DiffusionResult, partner: LadderResult, plan: Plan) -> Figure {
    let figure = Figure(rows: 2, cols: 2, width: 13, height: 9, dpi: 120)
    var lines: [CurveLine] = []
    for (k, curve) in diffusion.curves.enumerated() {
        let ar = partner.curves[SparsityTarget.allCases.firstIndex(of: curve.target)!]
        lines.append(CurveLine(curve: ar, label: "AR \(plan.diffusionPartner.name), \(curve.target.rawValue)", color: Color.cycle[k]))
        lines.append(CurveLine(curve: curve, label: "diffusion, \(curve.target.rawValue)", color: Color.cycle[k], dash: .dashed, marker: .square))
    }
    relativePerformancePanel(figure[0, 0], lines, title: "(a) AR vs masked diffusion, same size (\(plan.diffusionSize.name))")
    let trace = diffusion.trace
    let b = figure[0, 1]
    b.line((1...trace.sparsityPerStep.count).map(Double.init), trace.sparsityPerStep, label: "intermediate, top-p \(plan.samplingP)", color: .blue, marker: .circle, markerSize: 4)
    b.title = "(b) mean sparsity per denoising step"
    b.xlabel = "denoising step"
    b.ylabel = "sparsity (fraction of zeros)"
    b.legend = .auto
    let c = figure[1, 0]
    let steps = (1...trace.driftGenerated.count).map(Double.init)
    c.line(Array(steps.dropLast()), layerMean(trace.consecutiveGenerated), label: "consecutive J(M_t, M_t+1), generated", color: .blue, marker: .circle, markerSize: 3)
    c.line(Array(steps.dropLast()), layerMean(trace.consecutivePrompt), label: "consecutive, prompt", color: .blue, dash: .dashed)
    c.line(steps, layerMean(trace.driftGenerated), label: "drift J(M_1, M_t), generated", color: .red, marker: .square, markerSize: 3)
    c.line(steps, layerMean(trace.driftPrompt), label: "drift, prompt", color: .red, dash: .dashed)
    c.title = "(c) kept-mask Jaccard across denoising steps"
    c.xlabel = "denoising step t"
    c.ylabel = "Jaccard index (mean over layers, positions)"
    c.legend = .lowerLeft
    let d = figure[1, 1]
    let heat = (0..<plan.diffusionSize.layers).map { l in trace.consecutiveGenerated.map { $0[l] } }
    d.heatmap(heat, rowLabels: (0..<plan.diffusionSize.layers).map { "layer \($0)" },
              columnLabels: (1..<trace.driftGenerated.count).map { "\($0)" }, colorbarLabel: "J(M_t, M_t+1), generated")
    d.title = "(d) consecutive Jaccard per layer × step"
    d.xlabel = "denoising step t"
    d.ylabel = "layer"
    return figure
}
