import Foundation
import Lab
import LabRun
import TeacherAdaptationCore

/// `fig-accuracy-vs-task`: avg_acc[t] against t, one panel per sequence, five methods, ±1 std over seeds.
func accuracyFigure(_ readings: Readings) -> Figure {
    let figure = Figure(rows: 1, cols: 2, width: 12, height: 4.6, dpi: 130, sharey: true)
    figure.suptitle = "Average task-agnostic accuracy over the seen tasks after each task (mean ± std over \(readings.plan.seeds.count) seed(s))"
    for (panel, sequence) in [RunSet.shift, RunSet.noshift].enumerated() {
        let axes = figure[0, panel]
        for method in Method.all {
            let curves = readings.averageAccuracyCurves(
                readings.runs.has(sequence: sequence, method: method) ? sequence : RunSet.matched, method)
            axes.meanBand(curves[0].indices.map(Double.init), runs: curves, label: method.name, color: method.color,
                          dash: method.dash, marker: .circle)
        }
        axes.title = sequence == RunSet.shift
            ? "shift: Fashion and MNIST pairs alternate (LwF.MC ± TA: first \(readings.plan.matchedTaskCount) tasks)"
            : "noshift-5: Fashion-MNIST pairs only"
        let tasks = (0..<readings.taskCount(sequence)).map(Double.init)
        axes.xticks(tasks, labels: tasks.map { String(Int($0)) })
        axes.xlabel = "task t (after training it)"
        axes.ylabel = "avg_acc[t] (%, task-agnostic)"
        axes.legend = .auto
    }
    return figure
}

/// `fig-ta-gain`: the paired TA gain in avg-inc-acc per seed (dots) and its mean (bar).
func gainFigure(_ readings: Readings) -> Figure {
    let groups: [(String, String, Distillation)] = [
        ("LwF shift-5", RunSet.matched, .lwf), ("LwF.MC shift-5", RunSet.matched, .lwfMultiClass),
        ("LwF noshift-5", RunSet.noshift, .lwf), ("LwF.MC noshift-5", RunSet.noshift, .lwfMultiClass),
        ("LwF shift (\(readings.plan.shiftTasks.taskCount) tasks)", RunSet.shift, .lwf),
    ]
    let figure = Figure(width: 9, height: 4.8, dpi: 130)
    let axes = figure[0, 0]
    let gains = groups.map { readings.gains($0.1, $0.2) }
    axes.bar(groups.map(\.0), gains.map { Metrics.mean($0) }, label: "mean over seeds", color: Color(hex: 0x9ECAE1))
    let dots = zip(gains.indices, gains).flatMap { index, values in values.map { (Double(index), $0) } }
    axes.scatter(dots.map(\.0), dots.map(\.1), label: "one seed (paired)", color: Color(hex: 0x08306B), size: 6)
    axes.horizontalLine(at: 0)
    axes.title = "Teacher Adaptation gain, paired per seed (dots: seeds, bars: their mean)"
    axes.xlabel = "method and sequence"
    axes.ylabel = "avg-inc-acc(method + TA) − avg-inc-acc(method) (pp)"
    axes.legend = .hidden
    return figure
}

/// `fig-kd-loss`: D against the training step over tasks ≥ 1, mean over seeds, dashed task boundaries; rows are
/// the sequences, columns LwF (softmax KL) and LwF.MC (Bernoulli KL), each with and without TA.
func kdErrorFigure(_ readings: Readings) -> Figure {
    let figure = Figure(rows: 2, cols: 2, width: 14, height: 8, dpi: 130)
    figure.suptitle = "KD error D on the training batch before each update (mean over \(readings.plan.seeds.count) seed(s)); dashed: task switches"
    let steps = readings.plan.stepsPerTask
    for (row, sequence) in [RunSet.shift, RunSet.noshift].enumerated() {
        for (column, distillation) in [Distillation.lwf, .lwfMultiClass].enumerated() {
            let axes = figure[row, column]
            let pair = [Method(distillation), Method(distillation, teacherAdaptation: true)]
            let source = readings.runs.has(sequence: sequence, method: pair[0]) ? sequence : RunSet.matched
            for method in pair {
                let (x, runs) = readings.kdErrorCurves(source, method)
                let mean = x.indices.map { index in Metrics.mean(runs.map { $0[index] }) }
                axes.line(x.map { $0 + Double(steps) }, mean, label: method.name, color: method.teacherAdaptation ? method.color : Color(hex: 0x555555),
                          width: 1.2, dash: method.dash)
            }
            for t in 1..<readings.taskCount(source) { axes.verticalLine(at: Double(t * steps), dash: .dashed) }
            let tasks = "tasks 1-\(readings.taskCount(source) - 1)"
            axes.title = (sequence == RunSet.shift ? "shift, \(tasks) (domain changes at every switch)" : "noshift-5, \(tasks)")
                + (distillation == .lwf ? ": LwF, KL at τ = 2" : ": LwF.MC, Bernoulli KL")
            axes.xlabel = "global training step (task t starts at t·\(steps))"
            axes.ylabel = "D (nats)"
            axes.legend = .auto
        }
    }
    return figure
}
