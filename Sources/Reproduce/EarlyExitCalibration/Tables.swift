import EarlyExitCalibrationCore
import Lab
import LabReport

/// "mean ± std" over seeds (just the value for one seed).
func meanStd(_ values: [Double]) -> TableCell {
    values.count > 1 ? .text("\(formatNumber(Metrics.mean(values))) ± \(formatNumber(Metrics.std(values)))") : .number(values[0])
}

/// The summary columns of both tables: Acc@25/50/75 %, AUC, ECE (IC mean, all-exit mean), AUROC, EEFP*.
private var summaryColumns: [(String, (ExitEvaluation) -> Double)] { [
    ("Acc@25%", { $0.budgetAccuracies[0] }), ("Acc@50%", { $0.budgetAccuracies[1] }), ("Acc@75%", { $0.budgetAccuracies[2] }),
    ("AUC", \.auc), ("ECE (ICs)", \.meanECE), ("ECE (all exits)", \.allExitMeanECE), ("AUROC (ICs)", \.meanAUROC),
    ("EEFP* (ICs, our operationalisation)", \.meanEEFP),
] }

/// ≈ paper Table: Baseline, Calibrated (ts-per-ic), Ours, and ts-auc; mean ± std over seeds.
func mainTable(_ runs: [SeedRun]) -> Table {
    var table = Table(header: ["row", "variant"] + summaryColumns.map(\.0))
    for (name, variant) in [("Baseline", Variant.base), ("Calibrated", .tsPerIC), ("Ours", .ours), ("AUC-tuned TS", .tsAUC)] {
        table.append([.text(name), .text(variant.rawValue)] + summaryColumns.map { _, value in meanStd(runs.map { value($0.evaluations[variant]!) }) })
    }
    return table
}

/// All 17 variants: the summary columns, per-exit accuracy and mean Kendall τ_b against the baseline.
func variantsTable(_ runs: [SeedRun]) -> Table {
    let exitCount = runs[0].base.accuracy.count
    var table = Table(header: ["variant"] + summaryColumns.map(\.0) + (1...exitCount).map { "acc exit \($0)" } + ["Kendall τ_b (ICs)"])
    for variant in Variant.allCases {
        let evaluations = runs.map { $0.evaluations[variant]! }
        table.append([.text(variant.rawValue)] + summaryColumns.map { _, value in meanStd(evaluations.map(value)) }
                     + (0..<exitCount).map { k in meanStd(evaluations.map { $0.accuracy[k] }) }
                     + [meanStd(evaluations.map(\.meanKendall))])
    }
    return table
}

/// The toy's measured values next to the analytic ones.
func toyTable(_ cases: [(ToyCase, ExitEvaluation)]) -> Table {
    var table = Table(header: ["case", "AUC", "AUC (analytic)", "ECE", "ECE (analytic)", "AUROC", "AUROC (analytic)",
                               "EEFP*", "EEFP* (analytic)"])
    for (toy, evaluation) in cases {
        let expected = toy.expected
        table.append([.text(toy.title), .number(evaluation.auc), .number(expected.auc), .number(evaluation.ece[0]), .number(expected.ece),
                      .number(evaluation.auroc[0]), .number(expected.auroc), .number(evaluation.eefp[0]), .number(expected.eefp)])
    }
    return table
}
