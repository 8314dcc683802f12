import Foundation
import Lab
import LabRun
import TeacherAdaptationCore

/// `trace.csv`: one row per training step of every task ≥ 1 of every run (seed, sequence, method, t, step,
/// L_CE, L_KD, D); too long for REPORT.md, so it is written as a file and linked.
func writeTrace(_ runs: RunSet, report: Report) throws {
    var trace = Table(header: ["seed", "sequence", "method", "t", "step", "L_CE", "L_KD", "D"])
    for run in runs.runs {
        for record in run.steps {
            trace.append([.integer(run.seed), .text(run.sequence), .text(run.method.name), .integer(record.task),
                          .integer(record.step), .number(record.crossEntropy), .number(record.distillation),
                          record.kdError.isNaN ? "" : .number(record.kdError)])
        }
    }
    try trace.validate(name: "trace.csv")
    try AtomicFile.write(trace.csv, to: report.outputPath("trace.csv"))
    try report.attach("trace.csv", caption: "trace.csv: every training step of tasks ≥ 1 (FT has no teacher: D empty)")
}
