import EarlyExitContinualCore
import Foundation
import Lab
import LabReport

/// "mean ± std" over seeds (just the mean for one seed).
func meanStd(_ values: [Double]) -> TableCell {
    values.count > 1 ? .text("\(formatNumber(Metrics.mean(values))) ± \(formatNumber(Metrics.std(values)))") : .number(values[0])
}

let notApplicable = TableCell.text("–")

/// Main table (docs/papers/early-exit-continual.md §4): method × {base, EE, EE+TLC}.
func mainTable(_ study: Study) -> Table {
    var table = Table(header: ["method", "network"] + Plan.budgetNames
                      + ["AUC", "final-exit accuracy", "min cost to match base", "TLC a", "TLC b"])
    for method in methodOrder {
        let runs = study[method]
        table.append([.text(method.rawValue), .text("base")] + Array(repeating: notApplicable, count: 3)
                     + [meanStd(runs.map(\.baseAccuracy)), notApplicable, meanStd(runs.map(\.baseAccuracy)), .number(1), notApplicable,
                        notApplicable])
        for corrected in [false, true] {
            let summaries = runs.map { corrected ? $0.correctedSummary : $0.summary }
            let outcomes = runs.map { corrected ? $0.earlyExit.corrected! : $0.earlyExit.outcomes }
            let fits = runs.map { $0.earlyExit.fit!.correction }
            table.append([.text(method.rawValue), .text(corrected ? "EE + TLC" : "EE")]
                         + (0..<CurveSummary.budgets.count).map { b in meanStd(summaries.map { $0.budgetAccuracies[b] }) }
                         + [meanStd(summaries.map(\.area)), meanStd(outcomes.map { $0.accuracies.last! }),
                            summaries.allSatisfy { $0.costToMatch != nil } ? meanStd(summaries.map { $0.costToMatch! })
                                : .text("not reached (\(summaries.filter { $0.costToMatch == nil }.count) of \(summaries.count) seeds)"),
                            corrected ? meanStd(fits.map(\.a)) : notApplicable, corrected ? meanStd(fits.map(\.b)) : notApplicable])
        }
    }
    return table
}

/// Per method (EE networks) and exit: final TAg and TAw accuracy over all tasks and TAw forgetting.
func forgettingTable(_ study: Study) -> Table {
    var table = Table(header: ["method", "exit", "TAg accuracy", "TAw accuracy", "TAw forgetting"])
    for method in methodOrder {
        let runs = study[method].map(\.earlyExit.result)
        for (k, name) in exitNames.enumerated() {
            table.append([.text(method.rawValue), .text(name),
                          meanStd(runs.map { Metrics.mean($0.finalTaskAgnostic[k]) }),
                          meanStd(runs.map { Metrics.mean($0.finalTaskAware[k]) }),
                          method == .joint ? notApplicable : meanStd(runs.map { $0.taskAwareForgetting(exit: k) })])
        }
    }
    return table
}

/// Mean over seeds, formatted.
func meanText(_ values: [Double]) -> String { formatNumber(Metrics.mean(values)) }

func trainingText(_ study: Study) -> String {
    let lines = methodOrder.map { method -> String in
        let runs = study[method]
        let ee = runs.map(\.earlyExit), base = runs.map(\.base)
        return """
            - **\(method.rawValue)**: base network \(meanText(runs.map(\.baseAccuracy))) TAg accuracy; EE exits \
            \((0..<exitNames.count).map { k in meanText(ee.map { $0.outcomes.accuracies[k] }) }.joined(separator: " / ")) \
            (IC1 / IC2 / IC3 / final); \(ee[0].result.trainingSampleSteps + base[0].result.trainingSampleSteps) training \
            sample-steps per seed (base + EE); \(String(format: "%.0f", Metrics.mean((ee + base).map { $0.result.seconds }))) s per run \
            on one core.
            """
    }
    let fitSeconds = study.runs.values.flatMap { $0.map(\.earlyExit.evaluationSeconds) }
    let violations = study[.replay].reduce(0) { $0 + $1.earlyExit.result.bufferViolations + $1.base.result.bufferViolations }
    return """
        TAg test accuracy after task \(Plan.taskCount) on all \(study[.joint][0].base.outcomes.sampleCount) test images, mean over seeds:

        \(lines.joined(separator: "\n"))

        TLC fit and curves per EE run: \(String(format: "%.1f", Metrics.mean(fitSeconds))) s on average. The ER buffer \
        kept exactly its quota of exemplars per seen class after every task (quota violations: \(violations)).
        """
}

func tlcText(_ study: Study) -> String {
    let parts = methodOrder.map { method -> String in
        let runs = study[method]
        let fits = runs.map { $0.earlyExit.fit! }
        return """
            \(method.rawValue): AUC \(meanText(runs.map(\.summary.area))) → \(meanText(runs.map(\.correctedSummary.area))) \
            (a = \(meanText(fits.map(\.correction.a))), b = \(meanText(fits.map(\.correction.b))); TLC loss \
            \(meanText(fits.map(\.uncorrectedLoss))) → \(meanText(fits.map(\.loss))))
            """
    }
    return """
        TLC per method (mean over seeds): \(parts.joined(separator: "; ")). A positive a or b raises the logits of the \
        older tasks against the last one. Each fit evaluates \(study[.lwf][0].earlyExit.fit!.evaluations) grid points on \
        the last task's training images (no data of earlier tasks), as the paper's TLC does; the authors minimise the \
        same loss with hyperopt TPE (2,000 evaluations).
        """
}

/// Why TLC's fit lowers the old tasks here (docs/papers/early-exit-continual.md §3, the masked-maximum loss), from
/// the run's numbers.
func tlcMechanismText(_ study: Study, method: ContinualMethodKind) -> String {
    let runs = study[method].map(\.earlyExit)
    let predicted = Metrics.mean(runs.map { $0.maskedMaxima!.predicted }), others = Metrics.mean(runs.map { $0.maskedMaxima!.others })
    let lastShare = Metrics.mean(runs.map { Metrics.mean($0.corrected!.predictionShare.map { $0[Plan.taskCount - 1] }) })
    let oracles = runs.map(oracleCorrectionAccuracy)
    let edge = runs.filter { $0.fit!.atGridEdge }.count
    let oracle = (best: Metrics.mean(oracles.map(\.best)), uncorrected: Metrics.mean(oracles.map(\.uncorrected)))
    return """
        With 2 classes per task (the paper: 10), masking the predicted class leaves the predicted task only its other \
        class. On the last task's own training images (\(method.rawValue)-EE, mean over exits, images and seeds) that \
        runner-up logit averages \(formatNumber(predicted)) against \(formatNumber(others)) for the other tasks' maxima\
        \(predicted < others ? ", so the loss falls as the older tasks are pushed down towards it" : ""). The fit gives \
        b = \(meanText(runs.map { $0.fit!.correction.b })), a = \(meanText(runs.map { $0.fit!.correction.a })), and after \
        TLC the exits assign \(formatNumber(lastShare)) of the test images to the last task (mean over exits and seeds; \
        balanced: 0.2). (a, b) lies on the edge of the fit's grid in \(edge) of \(runs.count) fits\
        \(edge > 0 ? ", where the minimum may lie further out (a wider grid: docs/papers/early-exit-continual.md §8)" : ""). \
        Chosen on the test images themselves (an oracle over a, b ∈ [−4, 4] in steps of 0.5), a correction of TLC's form \
        would move the final exit's TAg accuracy from \(formatNumber(oracle.uncorrected)) to at most \
        \(formatNumber(oracle.best)) (mean over seeds)\
        \(oracle.best - oracle.uncorrected < 0.05 ? ": the heads' levels, which decide the task-agnostic argmax, are random, not ordered by task age (see recency-bias), so no bias a·(T − 1 − t) + b evens them out" : "").
        """
}

/// Each exit's head level and spread on the test images for `method`'s EE network, mean over seeds
/// (docs/papers/early-exit-continual.md §8).
func headProfile(_ study: Study, method: ContinualMethodKind) -> HeadLogitProfile {
    let profiles = study[method].map { HeadLogitProfile($0.earlyExit.result.test, outputTask: $0.earlyExit.result.outputTask) }
    func mean(_ pick: (HeadLogitProfile) -> [[Double]]) -> [[Double]] {
        pick(profiles[0]).indices.map { k in pick(profiles[0])[k].indices.map { t in Metrics.mean(profiles.map { pick($0)[k][t] }) } }
    }
    return HeadLogitProfile(level: mean(\.level), spread: mean(\.spread))
}

/// "level l, spread s" of task t's head at exit k.
func headText(_ profile: HeadLogitProfile, exit k: Int, task t: Int) -> String {
    "level \(formatNumber(profile.level[k][t])), spread \(formatNumber(profile.spread[k][t]))"
}

/// Why the last task does not collect the predictions (docs/papers/early-exit-continual.md §8), from the run's
/// numbers: the ratio of the last head's spread to the largest old head's at every exit, and the heads of the
/// last task and of the favoured task at the exit with the smallest last-task share.
func recencyMechanismText(_ study: Study) -> String {
    let last = Plan.taskCount - 1
    let methods: [ContinualMethodKind] = [.finetuning, .lwf]
    let profiles = methods.map { headProfile(study, method: $0) }
    let ratios = zip(methods, profiles).map { method, profile in
        "\(method.rawValue)-EE " + (0..<exitNames.count).map { k in
            formatNumber(profile.spread[k][last] / profile.spread[k][..<last].max()!)
        }.joined(separator: "/")
    }
    var worst = (method: 0, exit: 0, share: Double.infinity)
    for (m, method) in methods.enumerated() {
        for k in 0..<exitNames.count {
            let share = study.mean(method) { $0.earlyExit.outcomes.predictionShare[k][last] }
            if share < worst.share { worst = (m, k, share) }
        }
    }
    let shares = (0..<Plan.taskCount).map { u in study.mean(methods[worst.method]) { $0.earlyExit.outcomes.predictionShare[worst.exit][u] } }
    let favoured = shares.indices.max { shares[$0] < shares[$1] }!
    let profile = profiles[worst.method]
    return """
        with two classes per task, CE within the current head and task-wise distillation give a head's two logits \
        opposite gradients, so a head's level (the mean of its logits) stays at its random initialisation (exactly in FT, \
        approximately in LwF) and the task-agnostic argmax follows the heads' random levels plus their spreads (largest \
        logit − level); the old heads \
        keep spreads about as large as the last head's (last head's spread / largest old head's, test images, mean \
        over seeds, IC1/IC2/IC3/final: \(ratios.joined(separator: "; "))). At \(methods[worst.method].rawValue)-EE \
        \(exitNames[worst.exit]) (last-task share \(formatNumber(worst.share))) task \(Plan.taskCount)'s head has \
        \(headText(profile, exit: worst.exit, task: last)), the favoured task \(favoured + 1)'s (share \
        \(formatNumber(shares[favoured]))) \(headText(profile, exit: worst.exit, task: favoured)). Side runs with 3× the \
        epochs, 3× the learning rate, LwF λ = 0.5 or zero-initialised heads do not lift every exit of both methods to \
        0.4 (docs/papers/early-exit-continual.md §8)
        """
}

/// The best final-exit TAg accuracy any correction of TLC's form reaches when chosen on the test images
/// themselves (an oracle, a and b on a grid of step 0.5 in [−4, 4]), and the accuracy without correction.
func oracleCorrectionAccuracy(_ run: EvaluatedRun) -> (best: Double, uncorrected: Double) {
    let table = run.result.test, outputTask = run.result.outputTask
    let taskCount = (outputTask.max() ?? 0) + 1, last = table.exitCount - 1
    func accuracy(_ correction: TaskLogitsCorrection) -> Double {
        let bias = outputTask.map { correction.bias(task: $0) }
        var right = 0
        for i in 0..<table.sampleCount {
            let row = table.row(exit: last, sample: i)
            var top = 0, best = -Double.infinity
            for (j, z) in row.enumerated() where Double(z) + bias[j] > best { best = Double(z) + bias[j]; top = j }
            if top == table.targets[i] { right += 1 }
        }
        return Double(right) / Double(table.sampleCount)
    }
    let grid = (-8...8).map { Double($0) * 0.5 }
    let best = grid.flatMap { a in grid.map { b in accuracy(TaskLogitsCorrection(a: a, b: b, taskCount: taskCount)) } }.max()!
    return (best, accuracy(.identity(taskCount: taskCount)))
}

/// The task each exit assigns most test images to (mean share over seeds), e.g. "task 4 (0.56)".
func dominantTasks(_ study: Study, method: ContinualMethodKind) -> String {
    let runs = study[method].map(\.earlyExit.outcomes)
    return (0..<exitNames.count).map { k in
        let shares = (0..<Plan.taskCount).map { u in Metrics.mean(runs.map { $0.predictionShare[k][u] }) }
        let top = shares.indices.max { shares[$0] < shares[$1] }!
        return "\(exitNames[k]) task \(top + 1) (\(formatNumber(shares[top])))"
    }.joined(separator: ", ")
}

func forgettingText(_ study: Study) -> String {
    let parts = [ContinualMethodKind.finetuning, .lwf].map { method -> String in
        let runs = study[method].map(\.earlyExit.result)
        return """
            \(method.rawValue)-EE: TAw forgetting per exit \
            \((0..<exitNames.count).map { k in meanText(runs.map { $0.taskAwareForgetting(exit: k) }) }.joined(separator: " / ")) \
            (IC1 / IC2 / IC3 / final)
            """
    }
    return "Mean over seeds: \(parts.joined(separator: "; ")). Forgetting is the drop of task-aware accuracy from its best value before the last task, averaged over tasks 1–\(Plan.taskCount - 1)."
}

func recencyText(_ study: Study) -> String {
    let parts = [ContinualMethodKind.finetuning, .lwf].map { method -> String in
        let runs = study[method].map(\.earlyExit)
        let before = (0..<exitNames.count).map { k in meanText(runs.map { $0.outcomes.predictionShare[k][Plan.taskCount - 1] }) }
        let after = (0..<exitNames.count).map { k in meanText(runs.map { $0.corrected!.predictionShare[k][Plan.taskCount - 1] }) }
        return "\(method.rawValue)-EE \(before.joined(separator: " / ")) before TLC, \(after.joined(separator: " / ")) after"
    }
    return """
        Share of all test images that each exit (IC1 / IC2 / IC3 / final) assigns to the last task's two classes (a \
        balanced classifier: 0.2), mean over seeds: \(parts.joined(separator: "; ")). The task each exit favours most: \
        FT-EE \(dominantTasks(study, method: .finetuning)); LwF-EE \(dominantTasks(study, method: .lwf)). Why not the \
        last task: \(recencyMechanismText(study)).

        \(tlcMechanismText(study, method: .lwf))
        """
}

func overthinkingText(_ study: Study) -> String {
    let parts = methodOrder.map { method -> String in
        let outcomes = study[method].map(\.earlyExit.outcomes)
        return "\(method.rawValue) \(meanText(outcomes.map(\.overthinking.fraction))) (\(meanText(outcomes.map(\.overthinking.ofFinalErrors))) of the final exit's errors)"
    }
    return "Fraction of test images some IC classifies correctly while the final exit is wrong, mean over seeds: \(parts.joined(separator: "; "))."
}

func deviationsText(plan: Plan, seeds: [Int]) -> String {
    """
    - **Data and network.** Fashion-MNIST in 5 tasks of 2 classes and a 0.84 M-MAC 4-block CNN with three ICs, instead of \
    CIFAR-100 and ImageNet-Subset (10 tasks) with ResNet-32/18 and 6–7 ICs; \(plan.trainPerClass) training images per \
    class, \(seeds.count) seed(s).
    - **Training.** Adam (lr 1e-3), \(plan.epochsPerTask) epochs per task, batch 64, instead of SGD (lr 0.1) for 200 \
    epochs; LwF λ = 1 (the authors' EE scripts: 0.5); IC weight targets [0.3, 0.6, 0.9] for our three ICs; ER keeps 20 \
    exemplars per class; Joint is one training on all tasks (FACIL retrains incrementally; only the last model counts).
    - **TLC.** The loss of the authors' v1 code with the intended −∞ masking of the predicted logit (the released code \
    multiplies by −∞, which sends a negative predicted logit to +∞); a deterministic grid over [−\(formatNumber(plan.tlcGrid.range)), \
    \(formatNumber(plan.tlcGrid.range))]² of step \(formatNumber(plan.tlcGrid.step)) plus a refinement of step \
    \(formatNumber(plan.tlcGrid.refineStep)) instead of hyperopt TPE.
    - **Curves.** Thresholds: the authors' 501 uniform points plus quantiles of the pooled IC confidences and +∞ (our \
    addition); costs are MACs of convolution and linear layers (fvcore's count), normalised by the base network.
    """
}
