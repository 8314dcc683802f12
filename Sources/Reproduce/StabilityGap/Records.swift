import Foundation
import Lab
import LabRun
import StabilityGapCore

/// `table-per-task.csv` (one row per run, head and pair t ≥ 1, u < t) and `trace.csv` (every evaluation),
/// for inspection; both too long to embed in REPORT.md, so they are written as files and linked.
func writeRecords(_ runs: [ContinualRunResult], report: Report) throws {
    var perTask = Table(header: ["setting", "seed", "M", "head", "t", "u", "acc_ref", "m", "SG", "recovery", "i*", "N_t"])
    var trace = Table(header: ["setting", "seed", "M", "head", "t", "i", "u", "acc", "recency"])
    for run in runs {
        for head in EvaluationHead.allCases {
            let headTrace = run.trace(head)
            let key: [TableCell] = [.text(run.setting), .integer(run.seed), .integer(run.memory), .text(head.rawValue)]
            for pair in headTrace.taskPairGaps() {
                perTask.append(key + [.integer(pair.task), .integer(pair.oldTask), .number(pair.referenceAccuracy),
                                      .number(pair.minimum), .number(pair.gap), .number(pair.recovery),
                                      .integer(pair.minimumStep), .integer(pair.taskSteps)])
            }
            for point in headTrace.points {
                for u in 0...point.task {
                    trace.append(key + [.integer(point.task), .integer(point.step), .integer(u),
                                        .number(point.accuracy[u]), .number(point.intoCurrentTask[u])])
                }
            }
        }
    }
    for (table, name, caption) in [
        (perTask, "table-per-task.csv", "per pair (t, u): reference accuracy, minimum, SG, recovery, i*, N_t"),
        (trace, "trace.csv", "every evaluation: accuracy on task u after step i of task t; recency = share of task u predicted into task t"),
    ] {
        try table.validate(name: name)
        try AtomicFile.write(table.csv, to: report.outputPath(name))
        try report.attach(name, caption: "\(name): \(caption)")
    }
}
