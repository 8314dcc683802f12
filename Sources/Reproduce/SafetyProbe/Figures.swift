import Lab
import LabPlot
import LabReport
import SafetyProbeCore

/// Ticks of a rate axis whose range leaves room for the legend above 1.
let rateTicks = stride(from: 0.0, through: 1.0, by: 0.2).map { $0 }

/// The five test rates of `Detection`, with their plot labels.
let detectionRates: [(String, @Sendable (Detection) -> Double)] = [
    ("F1 (ID test)", \.f1), ("TPR HarmBench", \.tprHarmbench), ("TPR tense", \.tprTense),
    ("TNR Python FAQ", \.tnrFAQ), ("TNR alarming", \.tnrAlarming),
]

/// fig-per-layer: (a) logistic P1 rates over the layers; (b) F1_ID by head; (c) F1_ID by prompt variant (common pool).
func perLayerFigure(_ sweeps: [LayerSweep], common: [PromptVariant: [LayerSweep]], coarseLayers: [Int]) -> Figure {
    let figure = Figure(rows: 1, cols: 3, width: 18, height: 5.4, dpi: 110)
    figure.suptitle = "Safety probes over SmolLM2-135M's layers (mean ± std over \(sweeps.count) seed(s))"
    let layers = Array(0..<sweeps[0].logistic.count).map(Double.init)
    let a = figure[0, 0]
    for (i, (label, value)) in detectionRates.enumerated() {
        a.meanBand(layers, runs: sweeps.map { $0.logistic.map { value($0.detection) } }, label: label, color: Color.cycle[i], marker: .circle)
    }
    a.title = "(a) logistic probe, P1, whole pool"
    a.xlabel = "layer ℓ (0 = embedding, 30 = final norm)"
    a.ylabel = "rate"
    a.ylim = 0...1.6
    a.legend = .upperRight
    a.yticks(rateTicks)
    let b = figure[0, 1]
    let coarse = coarseLayers.map(Double.init)
    b.meanBand(layers, runs: sweeps.map { $0.logistic.map(\.detection.f1) }, label: "logistic (all layers)", color: Color.cycle[0])
    b.meanBand(coarse, runs: sweeps.map { $0.mlp.map(\.detection.f1) }, label: "MLP 576-128-1", color: Color.cycle[1], marker: .square)
    b.meanBand(coarse, runs: sweeps.map { $0.mahalanobis.map(\.detection.f1) }, label: "Mahalanobis", color: Color.cycle[2], marker: .triangle)
    b.title = "(b) F1 on the ID test split by head, P1"
    b.xlabel = "layer ℓ"
    b.ylabel = "F1 (dna-id test ∪ benign-id test)"
    b.ylim = 0...1.4
    b.legend = .upperRight
    b.yticks(rateTicks)
    let c = figure[0, 2]
    for (i, variant) in PromptVariant.allCases.enumerated() {
        c.meanBand(layers, runs: common[variant]!.map { $0.logistic.map(\.detection.f1) }, label: variant.title, color: Color.cycle[i + 3])
    }
    c.title = "(c) F1 on the ID test split by prompt, common pool"
    c.xlabel = "layer ℓ"
    c.ylabel = "F1 (logistic, fitted on 80 % of training)"
    c.ylim = 0...1.4
    c.legend = .upperRight
    c.yticks(rateTicks)
    return figure
}

/// fig-detector-design: S of every design, grouped by readout and head, one bar per prompt variant; the lexical
/// baseline as a line.
func designFigure(_ rows: [DesignRow], lexical: [Detection]) -> Figure {
    let figure = Figure(width: 13, height: 5.2, dpi: 120)
    let ax = figure[0, 0]
    let groups = Readout.allCases.flatMap { readout in ProbeHead.allCases.map { (readout, $0) } }
    let categories = groups.map { "\($0.0.short) \($0.1.title)" }
    let series = PromptVariant.allCases.map { variant in
        (label: variant.title, values: groups.map { readout, head in
            rows.first { $0.variant == variant && $0.readout == readout && $0.head == head }!.mean(\.summary)
        })
    }
    let errors = PromptVariant.allCases.map { variant in
        groups.map { readout, head in
            let row = rows.first { $0.variant == variant && $0.readout == readout && $0.head == head }!
            return row.detections.count > 1 ? Metrics.std(row.detections.map(\.summary)) : 0
        }
    }
    ax.groupedBar(categories, series: series, errors: rows[0].detections.count > 1 ? errors : nil, colors: [Color.cycle[3], Color.cycle[4], Color.cycle[5]])
    ax.horizontalLine(at: Metrics.mean(lexical.map(\.summary)), label: "lexical baseline (mean embedding, logistic)")
    ax.title = "Detector design on the common pool: S = mean(F1_ID, TPR HarmBench, TPR tense, TNR FAQ, TNR alarming)"
    ax.xlabel = "readout (R1 last token final, R2 best validation layer, R3 mean-pooled final) and head"
    ax.ylabel = "summary score S"
    ax.ylim = 0...1.3
    ax.legend = .upperRight
    ax.yticks(rateTicks)
    return figure
}

/// fig-knows-vs-answers: per set, probe flag rate, self-judgement "yes" rate, refusal rates of Original and Safe.
func knowsFigure(_ study: TwoStepStudy, judgement: SelfJudgement) -> Figure {
    let figure = Figure(width: 10, height: 5.2, dpi: 120)
    let ax = figure[0, 0]
    let sets: [ProbeSet] = [.dnaID, .harmbench, .faq, .alarming]
    let names = ["dna-id test (harmful)", "HarmBench (harmful)", "Python FAQ (benign)", "alarming (benign)"]
    ax.groupedBar(names, series: [
        (label: "probe flags as harmful", values: sets.map { study.flagRate(set: $0) }),
        (label: "model says \"yes, harmful\" when asked", values: sets.map { judgement.yesRates[$0] ?? .nan }),
        (label: "Original (P1) refuses", values: sets.map { study.refusal("Original", set: $0) }),
        (label: "Safe (P3) refuses", values: sets.map { study.refusal("Safe", set: $0) }),
    ], colors: [Color.cycle[0], Color.cycle[1], Color.cycle[2], Color.cycle[3]])
    ax.title = "SmolLM2 recognises harmful prompts in its hidden state, yet answers them"
    ax.xlabel = "prompt set"
    ax.ylabel = "fraction of prompts"
    ax.ylim = 0...1.35
    ax.legend = .upperRight
    ax.yticks(rateTicks)
    return figure
}

/// fig-two-step: each system at (benign refusal rate, harmful refusal rate).
func twoStepFigure(_ study: TwoStepStudy) -> Figure {
    let figure = Figure(width: 7.5, height: 5.5, dpi: 130)
    let ax = figure[0, 0]
    // Systems can coincide: hollow markers of decreasing size keep every one visible.
    let markers: [Marker] = [.circle, .square, .diamond, .triangle]
    for (i, system) in study.systems.enumerated() {
        let x = study.benignRefusal(system.name), y = study.harmfulRefusal(system.name)
        ax.scatter([x], [y], label: "\(system.name) (\(formatNumber(x)), \(formatNumber(y)))", color: Color.cycle[i],
                   size: 18 - 3.5 * Double(i), marker: markers[i % markers.count], hollow: true, alpha: 1)
    }
    ax.title = "Two-step framework: harmful vs benign refusal rate"
    ax.xlabel = "benign refusal rate R_b (faq ∪ alarming)"
    ax.ylabel = "harmful refusal rate R_h (dna-id test ∪ HarmBench)"
    ax.xlim = -0.05...1.05
    ax.ylim = -0.05...1.45
    ax.legend = .upperRight
    ax.yticks(rateTicks)
    return figure
}
