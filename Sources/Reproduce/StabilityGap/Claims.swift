import Foundation
import Lab
import LabRun
import StabilityGapCore

/// Every claim of the design (docs/papers/stability-gap.md), computed from the runs; thresholds are the design's.
func makeClaims(plan: Plan, runs: RunSet, main: SeedGroup, sequence: SeedGroup,
                memoryRuns: [ContinualRunResult], report: Report) throws {
    let all = runs.results
    let allSeeds = Array(Set(all.map(\.seed))).sorted()
    func perSeed(_ values: [Double]) -> String {
        zip(main.seeds, values).map { String(format: "seed %d: %.2f", $0, $1) }.joined(separator: ", ")
    }

    // Exact properties of the implementation, over every run.
    let taskZeroDifference = all.flatMap { run in
        zip(run.trace(.nmc).points(task: 0), run.trace(.oracle).points(task: 0)).map { abs($0.accuracy[0] - $1.accuracy[0]) }
    }.max() ?? .nan
    try report.claim(Claim(
        id: "oracle-equals-nmc-task0", statement: "during task 0 NMC and NMC-oracle use identical prototypes",
        measured: taskZeroDifference, .atMost(0), kind: .exact, seeds: allSeeds,
        note: "max |acc_NMC − acc_oracle| (pp) over the task-0 evaluations of all \(all.count) runs"))
    try report.claim(Claim(
        id: "buffer-quota",
        statement: "after each task the buffer holds exactly ⌊M/n⌋ images of each seen class, none of unseen ones",
        measured: Double(all.reduce(0) { $0 + $1.bufferQuotaViolations }), .equal(0), kind: .exact, seeds: allSeeds,
        note: "violations summed over every task end of all \(all.count) runs"))
    try report.claim(Claim(
        id: "prototypes-unit-norm", statement: "NMC prototypes are unit vectors",
        measured: all.map(\.maxPrototypeNormError).max() ?? .nan, .atMost(1e-5), kind: .exact, seeds: allSeeds,
        note: "max |‖μ̂‖ − 1| over both NMC heads at every evaluation of all runs"))

    // The stability gap of the linear head on the main setting.
    let linearGap = main.mean(.linear, \.gap), nmcGap = main.mean(.nmc, \.gap), oracleGap = main.mean(.oracle, \.gap)
    try report.claim(Claim(
        id: "gap-exists-linear", statement: "the linear head shows a stability gap",
        measured: linearGap, .atLeast(10), seeds: main.seeds,
        note: "SG_linear (pp), mean over t ≥ 1, u < t and seeds; \(perSeed(main.summaries(.linear).map(\.gap)))"))
    try report.claim(Claim(
        id: "gap-recovers-linear", statement: "the drop is partly recovered within the task",
        measured: main.mean(.linear, \.recovery), .atLeast(3), seeds: main.seeds,
        note: "Recovery_linear (pp); \(perSeed(main.summaries(.linear).map(\.recovery)))"))
    try report.claim(Claim(
        id: "gap-is-early", statement: "the minimum comes early in the task",
        measured: main.mean(.linear, \.earlyMinimumShare), .atLeast(0.7), seeds: main.seeds,
        note: "share of (t, u) pairs with i* ≤ 0.2·N_t, linear head, mean over seeds"))

    // NMC on the same backbone.
    let gapMargins = main.differences(.linear, .nmc, \.gap)
    try report.claim(Claim(
        id: "nmc-smaller-gap", statement: "NMC on the same backbone has a much smaller gap",
        measured: nmcGap / linearGap, .atMost(0.5),
        and: [Condition("min over seeds of SG_linear − SG_NMC (pp), > 0: every seed", measured: gapMargins.min() ?? .nan,
                        .greaterThan(0))],
        seeds: main.seeds,
        note: String(format: "SG_NMC = %.2f, SG_linear = %.2f pp; ", nmcGap, linearGap) + "SG_linear − SG_NMC: \(perSeed(gapMargins))"))
    let minAccMargins = main.differences(.nmc, .linear, \.minAccuracy)
    try report.claim(Claim(
        id: "nmc-higher-min-acc", statement: "NMC raises worst-case old-task accuracy",
        measured: Metrics.mean(minAccMargins), .atLeast(5),
        and: [Condition("min over seeds of min-ACC_NMC − min-ACC_linear (pp), > 0: every seed",
                        measured: minAccMargins.min() ?? .nan, .greaterThan(0))],
        seeds: main.seeds, note: "min-ACC_NMC − min-ACC_linear: \(perSeed(minAccMargins))"))
    try report.claim(Claim(
        id: "nmc-higher-wc-acc", statement: "NMC raises WC-ACC",
        measured: Metrics.mean(main.differences(.nmc, .linear, \.worstCaseAccuracy)), .atLeast(2), seeds: main.seeds,
        note: "WC-ACC_NMC − WC-ACC_linear (pp): \(perSeed(main.differences(.nmc, .linear, \.worstCaseAccuracy)))"))
    try report.claim(Claim(
        id: "nmc-final-acc", statement: "NMC does not lose final accuracy (paper: improves it)",
        measured: Metrics.mean(main.differences(.nmc, .linear, \.finalAccuracy)), .atLeast(0), seeds: main.seeds,
        note: "final acc NMC − Linear (pp): \(perSeed(main.differences(.nmc, .linear, \.finalAccuracy)))"))
    try report.claim(Claim(
        id: "oracle-matches-nmc", statement: "the buffer subsample does not drive the result",
        measured: abs(nmcGap - oracleGap), .atMost(3),
        and: [Condition("SG_oracle / SG_linear", measured: oracleGap / linearGap, .atMost(0.5))],
        seeds: main.seeds,
        note: String(format: "|SG_NMC − SG_oracle| (pp), SG_oracle = %.2f pp", oracleGap)))
    let linearRecency = main.mean(.linear, \.recencyEarly), nmcRecency = main.mean(.nmc, \.recencyEarly)
    try report.claim(Claim(
        id: "nmc-less-recency", statement: "NMC reduces task-recency bias right after the switch",
        measured: linearRecency / nmcRecency, .atLeast(2),
        and: [Condition("R_early linear", measured: linearRecency, .atLeast(0.25))],
        seeds: main.seeds,
        note: String(format: "R_early linear / NMC: %.3f / %.3f (evaluations with i ≤ %d)", linearRecency, nmcRecency,
                     HeadTrace.earlyRecencySteps)))

    // The alternating sequence and the memory sizes.
    let sequenceMargins = zip(sequence.differences(.linear, .nmc, \.gap), sequence.differences(.nmc, .linear, \.minAccuracy))
        .map { min($0, $1) }
    try report.claim(Claim(
        id: "gap-fm-sequence", statement: "the same holds on the 10-task Fashion/MNIST sequence",
        measured: sequenceMargins.min() ?? .nan, .greaterThan(0), seeds: sequence.seeds,
        note: "min over seeds of min(SG_linear − SG_NMC, min-ACC_NMC − min-ACC_linear) (pp); SG linear / NMC: "
            + String(format: "%.2f / %.2f, min-ACC linear / NMC: %.2f / %.2f", sequence.mean(.linear, \.gap),
                     sequence.mean(.nmc, \.gap), sequence.mean(.linear, \.minAccuracy), sequence.mean(.nmc, \.minAccuracy))))
    let memoryMargins = memoryRuns.map { $0.trace(.nmc).summary().minAccuracy - $0.trace(.linear).summary().minAccuracy }
    try report.claim(Claim(
        id: "memory-min-acc", statement: "NMC beats linear in min-ACC at every memory size",
        measured: memoryMargins.min() ?? .nan, .greaterThan(0), seeds: [plan.memorySeed],
        note: "min over M of (min-ACC_NMC − min-ACC_linear) (pp); per M: "
            + zip(plan.allMemorySizes, memoryMargins).map { String(format: "M=%d: %.2f", $0, $1) }.joined(separator: ", ")))
}
