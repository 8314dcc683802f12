import ActivationSparsityCore
import Foundation
import Lab
import LabLLM
import LabRun

/// Each rule's r at top-p's critical sparsity s*.
func rulesTable(_ comparisons: [RuleComparison]) -> Table {
    var table = Table(header: ["target", "s* (top-p crit)", "r top-p(s*)", "r top-k(s*)", "r max-p(s*)", "top-p − top-k"])
    for c in comparisons {
        let r = c.relativeAtCritical
        table.append([.text(c.target.rawValue), .number(rounded(c.criticalSparsity)), .number(rounded(r[0])), .number(rounded(r[1])),
                      .number(rounded(r[2])), .number(rounded(c.topPMinusTopK))])
    }
    return table
}

/// Mean erank/n over layers per tensor, SmolLM2 then each ladder model.
func erankTable(smolLM2: [[Double]], config: LlamaConfig, ladder: [LadderResult]) -> Table {
    var table = Table(header: ["model", "tensor", "mean erank/n", "width n"])
    for (k, point) in FFNHookPoint.allCases.enumerated() {
        table.append([.text("SmolLM2-135M"), .text(point.rawValue), .number(rounded(smolLM2[k].reduce(0, +) / Double(config.layers))),
                      .integer(point == .input ? config.width : config.ffnWidth)])
    }
    for result in ladder {
        for (k, point) in FFNHookPoint.allCases.enumerated() {
            table.append([.text(result.size.name), .text(point.rawValue), .number(rounded(result.erank[k])),
                          .integer(point == .input ? result.size.width : result.size.ffnWidth)])
        }
    }
    return table
}

/// Per model and target: dense quality, the critical sparsity and the FLOPs it saves.
func criticalTable(smolLM2: [Curve], smolLM2Dense: WindowStats, smolLM2Share: Double, config: LlamaConfig, ladder: [LadderResult],
                   diffusion: DiffusionResult, vocabulary: Int, plan: Plan) -> Table {
    var table = Table(header: ["model", "params", "target", "dense acc", "dense NLL", "dense cloze", "crit", "crit is lower bound",
                               "FFN FLOP saving", "model FLOP saving"])
    func row(_ model: String, _ parameters: TableCell, _ curve: Curve, _ dense: WindowStats, cloze: TableCell, share: Double?) -> [TableCell] {
        let c = curve.critical
        return [.text(model), parameters, .text(curve.target.rawValue), .number(rounded(dense.accuracy)), .number(rounded(dense.meanNLL)), cloze,
                .number(rounded(c.sparsity)), .text(c.isLowerBound ? "yes" : "no"), .number(rounded(curve.ffnSaving)),
                share.map { .number(rounded(curve.ffnSaving * $0)) } ?? .text("")]
    }
    for curve in smolLM2 {
        table.append(row("SmolLM2-135M", .integer(config.parameterCount), curve, smolLM2Dense,
                         cloze: .number(rounded(smolLM2Dense.clozeAccuracy)), share: smolLM2Share))
    }
    for result in ladder {
        let share = ffnShare(width: result.size.width, layers: result.size.layers, qkvWidth: 3 * result.size.width,
                             ffnWidth: result.size.ffnWidth, vocabulary: vocabulary, averageContext: plan.evalLength / 2)
        for curve in result.curves {
            table.append(row(result.size.name, .integer(result.parameters), curve, result.dense,
                             cloze: .number(rounded(result.dense.clozeAccuracy)), share: share))
        }
    }
    for curve in diffusion.curves {
        table.append(row(curve.model, .text("same as \(plan.diffusionSize.name) + 1 embedding row"), curve, diffusion.dense[0],
                         cloze: .text("n/a"), share: nil))
    }
    return table
}

/// Every measured point of the given curves, dense first in each, with a note per curve.
func sweepTable(_ curves: [(Curve, String)]) -> Table {
    var table = Table(header: ["model", "target", "rule", "parameter", "sparsity", "r", "s_in", "s_int", "windows"])
    for (curve, note) in curves {
        for i in curve.sparsity.indices {
            table.append([.text(curve.model), .text(curve.target.rawValue), .text(curve.rule),
                          curve.parameters[i].map { .number($0) } ?? .text("dense"),
                          .number(rounded(curve.sparsity[i])), .number(rounded(curve.relative[i])),
                          .number(rounded(curve.inputSparsity[i])), .number(rounded(curve.intermediateSparsity[i])),
                          .text(note)])
        }
    }
    return table
}
