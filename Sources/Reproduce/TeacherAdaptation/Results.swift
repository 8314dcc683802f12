import Foundation
import Lab
import LabContinual
import LabRun
import TeacherAdaptationCore

/// The main table's four numbers of one run, read over its first `taskCount` tasks (docs/papers/teacher-adaptation.md
/// §3): avg-inc-acc, final task-agnostic and task-aware accuracy, final forgetting (all in %).
struct RunSummary {
    var averageIncrementalAccuracy: Double
    var finalAccuracy: Double
    var finalTaskAwareAccuracy: Double
    var forgetting: Double

    init(_ run: SequenceRunResult, taskCount: Int) {
        let agnostic = AccuracyMatrix(rows: Array(run.taskAgnostic.rows.prefix(taskCount)))
        let aware = AccuracyMatrix(rows: Array(run.taskAware.rows.prefix(taskCount)))
        averageIncrementalAccuracy = agnostic.averageIncrementalAccuracy
        finalAccuracy = agnostic.finalAccuracy
        finalTaskAwareAccuracy = aware.finalAccuracy
        forgetting = agnostic.averageForgetting(afterTask: taskCount - 1)
    }
}

/// Per-seed readings of the runs, as the tables, figures and claims use them.
struct Readings {
    let plan: Plan
    let runs: RunSet

    /// The three rows of the main table: `shift` (all tasks), `shift-5` and `noshift-5`.
    static let sequences = [RunSet.shift, RunSet.matched, RunSet.noshift]

    func taskCount(_ sequence: String) -> Int {
        sequence == RunSet.shift ? plan.shiftTasks.taskCount : plan.matchedTaskCount
    }

    /// One summary per seed, in seed order.
    func summaries(_ sequence: String, _ method: Method) -> [RunSummary] {
        plan.seeds.map { RunSummary(runs.run(seed: $0, sequence: sequence, method: method), taskCount: taskCount(sequence)) }
    }

    /// The paired TA gain per seed: avg-inc-acc(method+TA) − avg-inc-acc(method) (pp).
    func gains(_ sequence: String, _ distillation: Distillation) -> [Double] {
        zip(summaries(sequence, Method(distillation, teacherAdaptation: true)), summaries(sequence, Method(distillation)))
            .map { $0.averageIncrementalAccuracy - $1.averageIncrementalAccuracy }
    }

    /// The task-agnostic accuracy on the task just learned, acc_tag[t, t], averaged over t = 1..<T, per seed (%).
    func newTaskAccuracy(_ sequence: String, _ method: Method) -> [Double] {
        plan.seeds.map { seed in
            let matrix = runs.run(seed: seed, sequence: sequence, method: method).taskAgnostic
            return Metrics.mean((1..<taskCount(sequence)).map { matrix[after: $0, on: $0] })
        }
    }

    /// After the sequence's last task, the share (%) of the test images of tasks 1..<T predicted into head 0, per seed.
    func firstHeadShare(_ sequence: String, _ method: Method) -> [Double] {
        plan.seeds.map { runs.run(seed: $0, sequence: sequence, method: method).firstHeadShare[taskCount(sequence) - 2] }
    }

    /// avg_acc[t] for t = 0..<T per seed.
    func averageAccuracyCurves(_ sequence: String, _ method: Method) -> [[Double]] {
        plan.seeds.map { seed in
            let matrix = runs.run(seed: seed, sequence: sequence, method: method).taskAgnostic
            return (0..<taskCount(sequence)).map(matrix.averageAccuracy(afterTask:))
        }
    }

    /// D at every step of tasks 1..<T per seed, x = global step counted from the start of task 1.
    func kdErrorCurves(_ sequence: String, _ method: Method) -> (x: [Double], runs: [[Double]]) {
        let tasks = 1..<taskCount(sequence)
        let perSeed = plan.seeds.map { seed in
            runs.run(seed: seed, sequence: sequence, method: method).steps.filter { tasks.contains($0.task) }.map(\.kdError)
        }
        let x = (0..<(perSeed.first?.count ?? 0)).map(Double.init)
        return (x, perSeed)
    }

    /// D at step 0 of task t, per seed.
    func switchError(_ sequence: String, _ method: Method, task t: Int) -> [Double] {
        plan.seeds.map { seed in runs.run(seed: seed, sequence: sequence, method: method).steps(task: t)[0].kdError }
    }

    /// The early KD error per seed: mean of D over the first 10% of the steps of tasks `tasks`.
    func earlyError(_ sequence: String, _ method: Method, tasks: Range<Int>) -> [Double] {
        plan.seeds.map { seed in
            let run = runs.run(seed: seed, sequence: sequence, method: method)
            return Metrics.mean(tasks.flatMap { run.steps(task: $0).prefix(plan.earlySteps).map(\.kdError) })
        }
    }
}

/// "mean ± std" over seeds (std only with two or more).
func meanAndSpread(_ values: [Double], digits: Int = 1) -> TableCell {
    let mean = String(format: "%.\(digits)f", Metrics.mean(values))
    return values.count > 1 ? .text(mean + " ± " + String(format: "%.\(digits)f", Metrics.std(values))) : .text(mean)
}

/// Per-seed values as "seed 0: 1.23, seed 1: ...".
func perSeed(_ seeds: [Int], _ values: [Double], digits: Int = 2) -> String {
    zip(seeds, values).map { String(format: "seed %d: %.\(digits)f", $0, $1) }.joined(separator: ", ")
}

/// Colours and dashes of the five methods, the same in every figure.
extension Method {
    var color: Color {
        switch distillation {
        case .none: Color(hex: 0x7F7F7F)
        case .lwf: Color(hex: 0x1F77B4)
        case .lwfMultiClass: Color(hex: 0xD62728)
        }
    }

    var dash: Dash { teacherAdaptation ? .solid : (distillation == .none ? .dotted : .dashed) }
}
