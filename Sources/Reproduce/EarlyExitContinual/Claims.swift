import EarlyExitContinualCore
import Foundation
import Lab
import LabReport

/// The claims of docs/papers/early-exit-continual.md §5 with its thresholds, on the test images after the last
/// task, averaged over the run's seeds.
func addClaims(to report: Report, study: Study) throws {
    let seeds = study.seeds
    let lastTask = Plan.taskCount - 1

    // Preconditions (§5): a paper claim about a method says something only if that method's EE network learned
    // its tasks: final-exit TAw accuracy ≥ 0.7 (chance 0.5 within a task's head).
    func learned(_ method: ContinualMethodKind) -> Condition {
        Condition("\(method.rawValue)-EE final-exit TAw accuracy (mean over tasks and seeds)",
                  measured: study.mean(method) { Metrics.mean($0.earlyExit.result.finalTaskAware.last!) }, .atLeast(0.7))
    }
    let jointLearned = Condition("Joint base TAg accuracy (mean over seeds)", measured: study.mean(.joint) { $0.baseAccuracy },
                                 .atLeast(0.5))

    // Exact: the cost model, the curve's τ = 0 end, the TLC grid, the Joint bound.
    let expectedCosts = [0.20869, 0.48238, 0.68894, 1.00906]
    try report.claim(Claim(
        id: "flops-per-exit", statement: "analytic exit costs",
        measured: study.exitCosts[0], .within(expectedCosts[0], tolerance: 1e-5),
        and: (1..<4).map { Condition("c_\($0 + 1)", measured: study.exitCosts[$0], .within(expectedCosts[$0], tolerance: 1e-5)) },
        kind: .exact, seeds: [], note: "c_k = MACs to exit k (earlier heads included) / MACs of the base network, counted from the model's layers"))
    let earlyExitRuns = methodOrder.flatMap { study[$0].map(\.earlyExit) }
    let endpointErrors = earlyExitRuns.flatMap { run in
        [(run.curve!, run.outcomes), (run.correctedCurve!, run.corrected!)].flatMap { curve, outcomes in
            [abs(curve.costs[0] - study.exitCosts[0]), abs(curve.accuracies[0] - outcomes.accuracies[0])]
        }
    }
    try report.claim(Claim(
        id: "ee-curve-endpoint", statement: "at τ = 0 every image leaves at IC1",
        measured: endpointErrors.max()!, .atMost(1e-9), kind: .exact, seeds: seeds,
        note: "max |cheapest curve point − (c_1, IC1 TAg accuracy)| over every EE run, before and after TLC"))
    try report.claim(Claim(
        id: "tlc-fit-not-worse", statement: "the fitted (a, b) does not raise the TLC loss",
        measured: earlyExitRuns.map { $0.fit!.loss - $0.fit!.uncorrectedLoss }.max()!, .atMost(0), kind: .exact, seeds: seeds,
        note: "max over every EE run of L(a*, b*) − L(0, 0) on the last task's training images"))
    let bestContinual = [ContinualMethodKind.finetuning, .lwf, .replay].map { study.mean($0) { $0.baseAccuracy } }.max()!
    try report.claim(Claim(
        id: "joint-upper-bound", statement: "Joint bounds the CL methods",
        measured: study.mean(.joint) { $0.baseAccuracy } - bestContinual, .atLeast(0), given: [jointLearned], kind: .exact,
        seeds: seeds, note: "Joint base TAg accuracy − max(FT, LwF, ER base TAg accuracy), means over seeds",
        whenFails: "a continual method beat joint training on all tasks; joint training's \(study[.joint][0].base.result.trainingSampleSteps) sample-steps may be too few"))

    // Paper claims.
    let exemplarFree: [ContinualMethodKind] = [.finetuning, .lwf]
    let lastTaskShares = exemplarFree.map { method in
        (0..<exitNames.count).map { k in study.mean(method) { $0.earlyExit.outcomes.predictionShare[k][lastTask] } }
    }
    try report.claim(Claim(
        id: "recency-bias", statement: "exemplar-free EE nets send most predictions to the last task",
        measured: lastTaskShares.flatMap { $0 }.min()!, .atLeast(0.4), given: exemplarFree.map(learned), seeds: seeds,
        note: "min over exits of FT-EE and LwF-EE of the share of test images assigned to task \(Plan.taskCount) (uniform 0.2); FT \(lastTaskShares[0].map(formatNumber).joined(separator: "/")), LwF \(lastTaskShares[1].map(formatNumber).joined(separator: "/"))",
        whenFails: "the exits favour FT-EE \(dominantTasks(study, method: .finetuning)); LwF-EE \(dominantTasks(study, method: .lwf)): \(recencyMechanismText(study))"))

    // recency-confidence: exits where every seed has ≥ 20 correct task-1 test images; the measured value is the
    // smallest gap among them. With no such exit (a smoke run) the gap is taken where every seed has at least one
    // correct task-1 image, and with none of those over every test image of the two tasks, correct or not; the
    // note says which. The condition "≥ 2 such exits" then fails, as the design asks.
    let lwf = study[.lwf].map(\.earlyExit)
    let confidence = lwf.map(\.outcomes.correctConfidence)
    let qualifying = (0..<exitNames.count).filter { k in confidence.allSatisfy { $0.count[k][0] >= 20 && $0.count[k][lastTask] >= 1 } }
    let defined = (0..<exitNames.count).filter { k in confidence.allSatisfy { $0.count[k][0] >= 1 && $0.count[k][lastTask] >= 1 } }
    let gapExits = qualifying.isEmpty ? defined : qualifying
    let confidenceGaps: [Double]
    let gapBasis: String
    if gapExits.isEmpty {
        confidenceGaps = (0..<exitNames.count).map { k in
            Metrics.mean(lwf.map { $0.outcomes.meanConfidence(exit: k, task: lastTask) - $0.outcomes.meanConfidence(exit: k, task: 0) })
        }
        gapBasis = "no exit classifies a task-1 and a task-\(Plan.taskCount) image correctly in every seed, so over all exits and every image: mean s_k(task-\(Plan.taskCount) images) − mean s_k(task-1 images)"
    } else {
        confidenceGaps = gapExits.map { k in Metrics.mean(confidence.map { $0.mean[k][lastTask] - $0.mean[k][0] }) }
        gapBasis = (qualifying.isEmpty ? "no exit has 20 correct task-1 images in every seed, so over the exits with at least one (" : "over the qualifying exits (")
            + "\(gapExits.map { exitNames[$0] }.joined(separator: ", "))): mean s_k(correct task-\(Plan.taskCount) images) − mean s_k(correct task-1 images)"
    }
    // Confidence follows the heads' levels and spreads (docs/papers/early-exit-continual.md §8): the heads of tasks 1
    // and 5 at the exit with the smallest gap.
    let lwfProfile = headProfile(study, method: .lwf)
    let worstGap = gapExits.isEmpty ? nil : gapExits[confidenceGaps.indices.min { confidenceGaps[$0] < confidenceGaps[$1] }!]
    let confidenceText = worstGap.map { k in
        "at \(exitNames[k]) the correct task-1 predictions are the more confident: there task 1's head has \(headText(lwfProfile, exit: k, task: 0)), task \(Plan.taskCount)'s \(headText(lwfProfile, exit: k, task: lastTask)) (test images, mean over seeds); a head's level stays at its random initialisation (see recency-bias), so confidence is not ordered by recency"
    } ?? "at some exit the correct old-task predictions are as confident as the recent ones"
    try report.claim(Claim(
        id: "recency-confidence", statement: "recent tasks get higher confidence",
        measured: confidenceGaps.min()!, .greaterThan(0),
        and: [Condition("exits with ≥ 20 correct task-1 images in every seed", measured: Double(qualifying.count), .atLeast(2))],
        given: [learned(.lwf)], seeds: seeds,
        note: "LwF-EE before TLC, smallest gap; \(gapBasis); per exit \(confidenceGaps.map(formatNumber).joined(separator: "/")).",
        whenFails: qualifying.count < 2 ? "fewer than two exits classify 20 task-1 test images correctly in every seed" : confidenceText))

    func spread(_ outcomes: ExitOutcomes) -> Double {
        Metrics.mean(outcomes.predictionShare.map { $0.max()! - $0.min()! })
    }
    let spreadBefore = Metrics.mean(lwf.map { spread($0.outcomes) }), spreadAfter = Metrics.mean(lwf.map { spread($0.corrected!) })
    try report.claim(Claim(
        id: "tlc-reduces-recency", statement: "TLC evens out task predictions",
        measured: spreadAfter / spreadBefore, .atMost(0.7), given: [learned(.lwf)], seeds: seeds,
        note: "LwF-EE: (max − min over tasks of the prediction share), mean over exits and seeds, after / before TLC = \(formatNumber(spreadAfter)) / \(formatNumber(spreadBefore))",
        whenFails: "TLC's fit shifts the older tasks' logits (mean bias over tasks 1–\(Plan.taskCount - 1) \(formatNumber(study.mean(.lwf) { run in Metrics.mean((0..<lastTask).map { run.earlyExit.fit!.correction.bias(task: $0) }) }))) and moves LwF-EE's share of test images assigned to the last task from \(formatNumber(study.mean(.lwf) { Metrics.mean($0.earlyExit.outcomes.predictionShare.map { $0[lastTask] }) })) before TLC to \(formatNumber(study.mean(.lwf) { Metrics.mean($0.earlyExit.corrected!.predictionShare.map { $0[lastTask] }) })) after (mean over exits and seeds; balanced 0.2); why: see tlc-auc-gain"))

    let aucGain = { (method: ContinualMethodKind) in study.mean(method) { $0.correctedSummary.area - $0.summary.area } }
    try report.claim(Claim(
        id: "tlc-auc-gain", statement: "TLC improves the whole cost–accuracy curve",
        measured: aucGain(.lwf), .atLeast(0.02), and: [Condition("FT: AUC(EE+TLC) − AUC(EE)", measured: aucGain(.finetuning), .greaterThan(0))],
        given: exemplarFree.map(learned), seeds: seeds, note: "LwF: AUC(EE+TLC) − AUC(EE), mean over seeds; FT as a further condition",
        whenFails: "LwF ΔAUC \(formatNumber(aucGain(.lwf))), FT \(formatNumber(aucGain(.finetuning))). \(tlcMechanismText(study, method: .lwf))"))

    let budgetGains = (0..<CurveSummary.budgets.count).map { b in
        study.mean(.lwf) { $0.correctedSummary.budgetAccuracies[b] - $0.summary.budgetAccuracies[b] }
    }
    try report.claim(Claim(
        id: "tlc-every-budget", statement: "TLC helps at every budget",
        measured: Double(budgetGains.filter { $0 > 0 }.count), .atLeast(3),
        and: [Condition("min over budgets of LwF Acc@b(EE+TLC) − Acc@b(EE)", measured: budgetGains.min()!, .atLeast(-0.005))],
        given: [learned(.lwf)], seeds: seeds,
        note: "LwF budgets (25/50/75/100 %) with a positive mean gain; gains \(budgetGains.map(formatNumber).joined(separator: "/"))",
        whenFails: "TLC's fit shifts the older tasks' logits (see tlc-auc-gain) and hands \(formatNumber(study.mean(.lwf) { Metrics.mean($0.earlyExit.corrected!.predictionShare.map { $0[lastTask] }) })) of the test images to the last task (mean over exits and seeds), whose images are 1/\(Plan.taskCount) of the test set: it costs accuracy wherever it moves predictions"))

    // A seed whose EE+TLC curve never reaches the base accuracy counts with the full cost c_K (every sample
    // through the last exit, > 1 with the ICs' overhead): finite, and failing the ≤ 0.7 bar.
    let notReached = study[.lwf].filter { $0.correctedSummary.costToMatch == nil }.count
    let matchCost = study.mean(.lwf) { $0.correctedSummary.costToMatch ?? $0.correctedSummary.fullCost }
    let beforeCost = study.mean(.lwf) { $0.summary.costToMatch ?? $0.summary.fullCost }
    try report.claim(Claim(
        id: "tlc-cheaper-than-base", statement: "EE+TLC reaches the base network's accuracy at a fraction of its compute",
        measured: matchCost, .atMost(0.7), given: [learned(.lwf)], seeds: seeds,
        note: "LwF: least cost on the EE+TLC curve whose accuracy ≥ the base network's (same seed), mean over seeds; "
            + (notReached == 0 ? "reached in every seed" : "not reached in \(notReached) of \(study[.lwf].count) seeds, counted at the full cost c_K"),
        whenFails: "LwF-EE+TLC (final exit \(formatNumber(study.mean(.lwf) { $0.earlyExit.corrected!.accuracies.last! }))) does not reach the base network's \(formatNumber(study.mean(.lwf) { $0.baseAccuracy })) early enough, while the EE curve without TLC reaches it at cost \(formatNumber(beforeCost)) (mean over seeds, never reached in \(study[.lwf].filter { $0.summary.costToMatch == nil }.count) of \(study[.lwf].count))\(beforeCost <= 0.7 ? ": TLC's fit is what fails here" : "") (see tlc-auc-gain)"))

    let forgettingGap = { (method: ContinualMethodKind) in
        study.mean(method) { $0.earlyExit.result.taskAwareForgetting(exit: 0) - $0.earlyExit.result.taskAwareForgetting(exit: exitNames.count - 1) }
    }
    try report.claim(Claim(
        id: "ic-forget-less", statement: "early ICs forget less",
        measured: forgettingGap(.finetuning), .lessThan(0),
        and: [Condition("LwF-EE: TAw forgetting at IC1 − at the final exit", measured: forgettingGap(.lwf), .lessThan(0))],
        given: exemplarFree.map(learned), seeds: seeds, note: "FT-EE: TAw forgetting at IC1 − at the final exit (mean over seeds); LwF as a further condition",
        whenFails: "the shallow block drifts as much as the deep ones at our scale (docs/papers/early-exit-continual.md §7, risk 3)"))

    let overthinking = { (method: ContinualMethodKind) in study.mean(method) { $0.earlyExit.outcomes.overthinking.fraction } }
    try report.claim(Claim(
        id: "overthinking-cl", statement: "overthinking is worse in CL than in joint training",
        measured: overthinking(.lwf) / overthinking(.joint), .atLeast(1.5), given: [learned(.lwf), jointLearned], seeds: seeds,
        note: "overthinking fraction LwF-EE / Joint-EE = \(formatNumber(overthinking(.lwf))) / \(formatNumber(overthinking(.joint)))"))
}
