import ExactOrthogonalInitCore
import Foundation
import Lab
import LabRun

/// One row per EOI (shape, density), with SAO-style and dense QR on the same shape where they apply.
func generatorTable(_ study: GeneratorStudy) -> Table {
    var table = Table(header: ["n_out x n_in", "target d", "EOI achieved d", "rotations", "EOI e (Float32)",
                               "EOI time (ms)", "SAO-style e", "SAO-style degree errors", "SAO-style time (ms)",
                               "dense QR time (ms)"])
    for row in study.eoi {
        let sao = study.sao.first { row.outputs == row.inputs && $0.side == row.outputs && $0.density == row.density }
        let qr = study.dense.first { $0.outputs == row.outputs && $0.inputs == row.inputs }
        table.append([TableCell("\(row.outputs) x \(row.inputs)"), TableCell(densityText(row.density)),
                      TableCell(row.achievedDensity), TableCell(row.rotations), TableCell(row.orthogonalityError),
                      TableCell(row.seconds * 1000),
                      sao.map { TableCell($0.orthogonalityError) } ?? "–", sao.map { TableCell($0.degreeErrors) } ?? "–",
                      sao.map { TableCell($0.seconds * 1000) } ?? "–", qr.map { TableCell($0.seconds * 1000) } ?? "–"])
    }
    return table
}

/// Mean singular value (over seeds) per activation, method and density.
func jacobianTable(_ networks: [JacobianNetwork], densities: [Double]) -> Table {
    var table = Table(header: ["activation", "method"] + densities.map { "d = \(densityText($0))" })
    for activation in Activation.allCases {
        for method in [InitMethod.dense] + InitMethod.sparse {
            let cells = densities.map { d -> TableCell in
                let values = networks.filter { $0.method == method && ($0.method == .dense || $0.density == d) }
                    .map { $0.meanSingularValue[activation]! }
                return values.isEmpty ? "–" : TableCell(Metrics.mean(values, nonFinite: .skip))
            }
            table.append([TableCell(activation.rawValue), TableCell(method.label)] + cells)
        }
    }
    return table
}

/// Test accuracy (%) per method and density; Dense as its own row.
func accuracyTable(_ runs: [TrainedRun], methods: [InitMethod], densities: [Double]) -> Table {
    var table = Table(header: ["method"] + densities.map { "d = \(densityText($0))" })
    table.append(["Dense (d = 1)"] + densities.map { _ in TableCell(percentText(runs.matching(.dense).accuracies)) })
    for method in methods {
        table.append([TableCell(method.label)] + densities.map { TableCell(percentText(runs.matching(method, density: $0).accuracies)) })
    }
    return table
}

/// Paper Table 1's layout: rows = methods, columns = (dataset, depth); "–" where a method was not run.
func deepTable(_ runs: [TrainedRun], plan: Plan) -> Table {
    let columns = [("Fashion-MNIST", plan.deepDepth), ("Fashion-MNIST", plan.deeperDepth), ("MNIST-5k", plan.deepDepth)]
    var table = Table(header: ["method"] + columns.map { "\($0.0) depth \($0.1)" })
    for method in [InitMethod.dense] + InitMethod.sparse {
        table.append([TableCell(method.label)] + columns.map { dataset, depth in
            let matching = runs.matching(method, depth: depth, dataset: dataset)
            return matching.isEmpty ? "–" : TableCell(percentText(matching.accuracies))
        })
    }
    return table
}

/// The learning-rate calibration as one sentence.
func calibrationText(_ calibration: Calibration, model: String) -> String {
    let scores = zip(calibration.candidates, calibration.validationAccuracies).map { rate, accuracy in
        "\(rate): \(accuracy.isFinite ? String(format: "%.1f %%", 100 * accuracy) : "diverged")"
    }
    return "Learning rate: **\(calibration.chosen)**, the best validation accuracy of the \(model) among "
        + scores.joined(separator: ", ") + "; used for every method of this experiment."
}
