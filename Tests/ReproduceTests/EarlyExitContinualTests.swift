import EarlyExitContinualCore
import Foundation
import Lab
import LabContinual
import LabData
import Testing

/// Outcomes built from per-exit confidences and right/wrong flags (targets 0, 1, 0, ...; a wrong prediction is the
/// other class of the same task), outputs [0, 0, 1, 1] in tasks 0 and 1.
private func outcomes(confidences: [[Double]], correct: [[Bool]]) -> ExitOutcomes {
    let targets = (0..<confidences[0].count).map { $0 % 2 }
    return ExitOutcomes(confidences: confidences,
                        predictions: correct.map { zip($0, targets).map { right, y in right ? y : 1 - y } },
                        targets: targets, outputTask: [0, 0, 1, 1])
}

@Suite struct EarlyExitContinualTests {
    /// docs/papers/early-exit-continual.md §3: backbone cumulative 169,344 / 395,136 / 564,480 / 818,496 MACs,
    /// heads at 10 outputs, EE exit costs 173,264 / 400,496 / 572,000 / 837,776, base network 830,256.
    @Test func exitCostsAreTheDesignsCounts() {
        var rng = RNG(seed: 0)
        let ee = ContinualExitNetwork(variant: .earlyExit, rng: &rng).exitCosts(totalClasses: 10)
        #expect(ee.cumulativeBackboneMACs == [169_344, 395_136, 564_480, 818_496])
        #expect(ee.exitMACs == [173_264, 400_496, 572_000, 837_776])
        #expect(ContinualExitNetwork(variant: .base, rng: &rng).exitCosts(totalClasses: 10).exitMACs == [830_256])
        let relative = ContinualExitNetwork.relativeExitCosts(totalClasses: 10)
        for (c, expected) in zip(relative, [0.20869, 0.48238, 0.68894, 1.00906]) { #expect(abs(c - expected) < 1e-5) }
    }

    /// Every head of every exit, and the ICs' α, are parameters with stable paths; stateDict, clone and the
    /// forward see the heads added after construction.
    @Test func headsOfEveryExitAreParameters() throws {
        var rng = RNG(seed: 1)
        let model = ContinualExitNetwork(variant: .earlyExit, rng: &rng)
        let backbone = model.parameterCount
        model.addTask(outputs: 2, rng: &rng)
        model.addTask(outputs: 2, rng: &rng)
        let headScalars = ContinualExitNetwork.featureSizes.reduce(0) { $0 + 2 * ($1 * 2 + 2) }
        #expect(model.parameterCount == backbone + headScalars)
        let paths = Set(model.namedParameters().map(\.0))
        #expect(paths.contains("exitHeads.0.heads.1.weight") && paths.contains("exitHeads.3.heads.1.bias"))
        #expect(paths.contains("pools.2.alpha"))
        #expect(model.stateDict().count == model.namedParameters().count)
        var scratch = RNG(seed: 99)
        let twin = try model.clone { ContinualExitNetwork(variant: .earlyExit, rng: &scratch) }
        #expect(twin.taskCount == 2 && twin.stateDict().keys.sorted() == model.stateDict().keys.sorted())
        let x = Tensor.randn([3, 1, 28, 28], rng: &rng)
        let logits = model.exits(x), twinLogits = twin.exits(x)
        #expect(logits.map(\.shape) == Array(repeating: [3, 4], count: 4))
        #expect(zip(logits, twinLogits).allSatisfy { $0.data == $1.data })
        #expect(model.outputRanges == [0..<2, 2..<4])
        // The base network: the final exit only, the same backbone.
        let base = ContinualExitNetwork(variant: .base, rng: &rng)
        base.addTask(outputs: 2, rng: &rng)
        #expect(base.exitCount == 1 && base.exits(x).map(\.shape) == [[3, 2]])
        #expect(base.parameterCount == backbone - 3 + 1_176 * 2 + 2)
    }

    /// w_k(e) = 0.01 + e/(E − 1)·(w̄_k − 0.01); the final exit weighs 1.
    @Test func exitWeightRamp() {
        let ramp = ExitWeightRamp(icTargets: [0.3, 0.6, 0.9], epochs: 8)
        #expect(ramp.weights(epoch: 0, exitCount: 4) == [0.01, 0.01, 0.01, 1])
        let last = ramp.weights(epoch: 7, exitCount: 4)
        #expect(zip(last, [0.3, 0.6, 0.9, 1]).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(abs(ramp.weights(epoch: 3, exitCount: 4)[1] - (0.01 + 3.0 / 7 * 0.59)) < 1e-12)
        #expect(ramp.weights(epoch: 3, exitCount: 1) == [1])
    }

    /// KL(softmax(z_old/T) ‖ softmax(z/T))·T² per head, summed over heads; by hand for one row:
    /// teacher (ln 3, 0), student (0, 0): T = 1 → 0.75·ln 1.5 + 0.25·ln 0.5 = 0.130812;
    /// T = 2 → p = (√3, 1)/(√3 + 1): (p₁ ln 2p₁ + p₂ ln 2p₂)·4 = 0.145363.
    @Test func taskwiseDistillationByHand() {
        let teacher = Tensor(shape: [1, 2], data: [Float(log(3.0)), 0])
        let student = Tensor(shape: [1, 2], data: [0, 0], requiresGrad: true)
        let one = taskwiseDistillation(student: [student], teacher: [teacher], temperature: 1)
        #expect(abs(Double(one.item) - 0.130812) < 1e-5)
        let p1 = sqrt(3.0) / (sqrt(3.0) + 1), p2 = 1 - p1
        let expectedT2 = 4 * (p1 * log(2 * p1) + p2 * log(2 * p2))
        #expect(abs(expectedT2 - 0.145363) < 1e-5)
        // Two heads: the terms add; the second head agrees with its teacher and adds 0.
        let agreeing = Tensor(shape: [2, 2], data: [1, -1, 0.5, 0.5], requiresGrad: true)
        let two = taskwiseDistillation(student: [student, agreeing], teacher: [teacher, agreeing.detached()], temperature: 2)
        #expect(abs(Double(two.item) - expectedT2) < 1e-5)
        two.backward()
        // d/dz of T²·KL = T·(q − p): q = (0.5, 0.5), p = (p1, p2) → 2·(0.5 − p1), 2·(0.5 − p2).
        #expect(abs(Double(student.grad!.data[0]) - 2 * (0.5 - p1)) < 1e-5)
        #expect(agreeing.grad!.data.allSatisfy { abs($0) < 1e-6 })
        #expect(teacher.grad == nil)
    }

    /// bias_t = a·(T − 1 − t) + b for t < T − 1, 0 for the last task.
    @Test func tlcBiasPerTask() {
        let correction = TaskLogitsCorrection(a: 0.5, b: 1, taskCount: 5)
        #expect((0..<5).map(correction.bias(task:)) == [3, 2.5, 2, 1.5, 0])
        #expect(correction.corrected([1, 2, 3, 4], outputTask: [0, 0, 4, 4]) == [4, 5, 3, 4])
    }

    /// One image, one exit, two tasks, logits (1, 3 | 2, 0). With bias β on task 0: ĉ = class 1 (3 + β) while
    /// 3 + β > 2; then m = (1 + β, 2), μ = (3 + β)/2, L = ((β − 1)/2)². β = 0: 0.25; β = −0.5: 0.5625; β = 1: 0.
    @Test func tlcLossByHand() {
        let table = ExitLogitTable(exits: [[1, 3, 2, 0]], classCount: 4, targets: [1])
        let summary = TaskLogitSummary(table, outputTask: [0, 0, 1, 1])
        func loss(_ beta: Double) -> Double { summary.loss(TaskLogitsCorrection(a: 0, b: beta, taskCount: 2)) }
        #expect(abs(loss(0) - 0.25) < 1e-12 && abs(loss(-0.5) - 0.5625) < 1e-12 && loss(1) == 0)
        // β = −2: z' = (−1, 1 | 2, 0); ĉ = class 2 (task 1): m = (1, 0), μ = 0.5, L = 0.25.
        #expect(abs(loss(-2) - 0.25) < 1e-12)
        // The masked maxima at β = 0: predicted task 0 keeps its runner-up 1, task 1 its maximum 2.
        let masked = summary.maskedMaxima(.identity(taskCount: 2))
        #expect(masked.predicted == 1 && masked.others == 2)
        // β < −1: ĉ = class 2 (task 1), m = (3 + β, 0), L = ((3 + β)/2)², so β = −3 is a second zero.
        #expect(loss(-3) == 0 && abs(loss(-2.5) - 0.0625) < 1e-12)
        // With two tasks only β = a + b matters; the first zero in a-major order is a = −4, b = 1 (β = −3).
        let fit = TaskLogitsCorrectionFit(summary, range: 4, step: 0.05, refineStep: 0.005, refineHalfWidth: 10)
        #expect(fit.loss < 1e-12 && abs(fit.correction.bias(task: 0) + 3) < 1e-9 && abs(fit.correction.a + 4) < 1e-12)
        #expect(abs(fit.uncorrectedLoss - 0.25) < 1e-12)
        #expect(fit.evaluations == 161 * 161 + 21 * 21 - 1)
        // a = −4 is the coarse grid's edge.
        #expect(fit.range == 4 && fit.atGridEdge)
    }

    /// The top/second shortcut equals the loss computed from the full corrected rows with the argmax masked to −∞.
    @Test func tlcLossEqualsTheDirectDefinition() {
        var rng = RNG(seed: 4)
        let (n, exits, classes) = (7, 3, 6)
        let outputTask = [0, 0, 1, 1, 2, 2]
        let table = ExitLogitTable(exits: (0..<exits).map { _ in (0..<(n * classes)).map { _ in Float(rng.normal() * 3) } },
                                   classCount: classes, targets: Array(repeating: 0, count: n))
        let summary = TaskLogitSummary(table, outputTask: outputTask)
        for (a, b) in [(0.0, 0.0), (0.7, -1.3), (-2.0, 2.5), (1.1, 0.4)] {
            let correction = TaskLogitsCorrection(a: a, b: b, taskCount: 3)
            var total = 0.0
            for i in 0..<n {
                var m: [Double] = []
                for k in 0..<exits {
                    var z = correction.corrected(table.row(exit: k, sample: i), outputTask: outputTask)
                    let top = z.indices.max { z[$0] < z[$1] || (z[$0] == z[$1] && $0 > $1) }!
                    z[top] = -.infinity
                    m += (0..<3).map { t in z.indices.filter { outputTask[$0] == t }.map { z[$0] }.max()! }
                }
                let mean = m.reduce(0, +) / Double(m.count)
                total += m.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            }
            #expect(abs(summary.loss(correction) - total / Double(n * exits * 3)) < 1e-9)
        }
    }

    /// Confidence = max softmax of the (corrected) logits, prediction = argmax; by hand on two rows.
    @Test func outcomesFromLogits() {
        // Row 0: (ln 3, 0, 0, 0) → s = 3/6, class 0. Row 1: (0, 0, 0, ln 2) → s = 2/5, class 3.
        let table = ExitLogitTable(exits: [[Float(log(3.0)), 0, 0, 0, 0, 0, 0, Float(log(2.0))]], classCount: 4, targets: [0, 2])
        let plain = ExitOutcomes(table, outputTask: [0, 0, 1, 1])
        #expect(plain.predictions == [[0, 3]])
        #expect(abs(plain.confidences[0][0] - 0.5) < 1e-6 && abs(plain.confidences[0][1] - 0.4) < 1e-6)
        #expect(plain.accuracies == [0.5] && plain.predictionShare == [[0.5, 0.5]])
        // TLC with bias 2 on task 0: row 1 becomes (2, 2, 0, ln 2) → class 0 (first of the tie), s = e²/(2e² + 1 + 2).
        let corrected = ExitOutcomes(table, outputTask: [0, 0, 1, 1], correction: TaskLogitsCorrection(a: 0, b: 2, taskCount: 2))
        #expect(corrected.predictions == [[0, 0]] && corrected.predictionShare == [[1, 0]])
        let e2 = exp(2.0)
        #expect(abs(corrected.confidences[0][1] - e2 / (2 * e2 + 3)) < 1e-6)
    }

    /// Recency (i) and (ii) and overthinking by hand on four images, two exits.
    @Test func recencyAndOverthinking() {
        // targets 0, 1, 0, 1 (all task 0); exit 1 right on images 0, 1, 3; exit 2 (final) right on 0 only.
        let result = outcomes(confidences: [[0.9, 0.7, 0.6, 0.5], [0.8, 0.6, 0.99, 0.7]],
                              correct: [[true, true, false, true], [true, false, false, false]])
        let confidence = result.correctConfidence
        #expect(confidence.count == [[3, 0], [1, 0]])
        #expect(abs(confidence.mean[0][0] - 0.7) < 1e-12 && confidence.mean[0][1].isNaN && confidence.mean[1][0] == 0.8)
        // Wrong predictions are the other class of task 0, so every prediction lands in task 0.
        #expect(result.predictionShare == [[1, 0], [1, 0]])
        // Final wrong on 1, 2, 3; exit 1 right on 1 and 3: 2/4 of all images, 2/3 of the final errors.
        #expect(result.overthinking.fraction == 0.5 && abs(result.overthinking.ofFinalErrors - 2.0 / 3) < 1e-12)
    }

    /// Exit selection under the authors' rule and the per-budget summaries, by hand (costs 0.2, 0.5, 0.7, 1):
    ///   A: s = (0.95, 0.5, 0.5, 0.99), right only at IC1.   B: s = (0.3, 0.85, 0.6, 0.7), right at IC2 and final.
    /// τ ≤ 0.3: both at IC1 → (0.2, 0.5). 0.3 < τ ≤ 0.85: A IC1, B IC2 → (0.35, 1). 0.85 < τ ≤ 0.95: A IC1, B fires
    /// nowhere and takes its most confident exit, IC2 (right), at cost 1 → (0.6, 1). τ > 0.95: A fires only at the
    /// final exit (0.99, wrong) or nowhere (most confident: final, wrong); B as before → (1, 0.5).
    @Test func budgetAccuraciesAndCostToMatchByHand() {
        let result = outcomes(confidences: [[0.95, 0.3], [0.5, 0.85], [0.5, 0.6], [0.99, 0.7]],
                              correct: [[true, false], [false, true], [false, false], [false, true]])
        let curve = result.curve(exitCosts: [0.2, 0.5, 0.7, 1.0], thresholds: (uniform: 11, quantiles: 0))
        #expect(curve.costs.count == 4)
        for (i, (cost, accuracy)) in [(0.2, 0.5), (0.35, 1.0), (0.6, 1.0), (1.0, 0.5)].enumerated() {
            #expect(abs(curve.costs[i] - cost) < 1e-12 && abs(curve.accuracies[i] - accuracy) < 1e-12)
        }
        let summary = CurveSummary(curve, target: 0.9)
        #expect(summary.budgetAccuracies == [0.5, 1, 1, 0.5])
        #expect(abs(summary.costToMatch! - 0.35) < 1e-12)
        // AUC = [0.15·0.75 + 0.25·1 + 0.4·0.75] / 0.8.
        #expect(abs(summary.area - 0.6625 / 0.8) < 1e-12)
        #expect(CurveSummary(curve, target: 1.01).costToMatch == nil)
    }

    /// Head level and spread by hand: one exit, tasks {0, 1} × 2 classes, rows (1, 3 | 2, 0) and (−1, 1 | 4, 4).
    /// Levels: task 0 (2 + 0)/2 = 1, task 1 (1 + 4)/2 = 2.5; spreads: task 0 (1 + 1)/2 = 1, task 1 (1 + 0)/2 = 0.5.
    @Test func headLogitProfileByHand() {
        let table = ExitLogitTable(exits: [[1, 3, 2, 0, -1, 1, 4, 4]], classCount: 4, targets: [1, 2])
        let profile = HeadLogitProfile(table, outputTask: [0, 0, 1, 1])
        #expect(profile.level == [[1, 2.5]] && profile.spread == [[1, 0.5]])
    }

    /// The mechanism behind the failing recency claims (docs/papers/early-exit-continual.md §8): CE within a
    /// two-class head gives its two logits opposite gradients (p − y sums to 0), so Adam moves its two weight rows
    /// and biases by opposite steps: their sums, hence the head's level, stay at the initial values while the
    /// spread grows.
    @Test func twoClassHeadKeepsItsLevelUnderAdam() {
        var rng = RNG(seed: 3)
        let head = Linear(inputSize: 3, outputSize: 2, rng: &rng)
        let x = Tensor(shape: [8, 3], data: (0..<24).map { _ in Float(rng.uniform() * 2) })
        let targets = (0..<8).map { $0 % 2 }
        func sums() -> [Float] { let w = head.weight.data, b = head.bias!.data; return [w[0] + w[3], w[1] + w[4], w[2] + w[5], b[0] + b[1]] }
        func spread() -> Float { let z = head(x).data; return (0..<8).reduce(0) { $0 + abs(z[2 * $1] - z[2 * $1 + 1]) } / 16 }
        let (before, spreadBefore) = (sums(), spread())
        let optimizer = Adam(parameters: head.parameters, learningRate: 0.05)
        for _ in 0..<20 {
            optimizer.zeroGrad()
            crossEntropy(head(x), targets: targets).backward()
            optimizer.step()
        }
        for (after, initial) in zip(sums(), before) { #expect(abs(after - initial) < 1e-5) }
        #expect(spread() > spreadBefore + 0.1)
    }

    /// A tiny run of every method end to end: matrices grow task by task, LwF's teacher and ER's buffer work, and
    /// Joint evaluates once on every task.
    @Test func everyMethodRunsOnATinySequence() throws {
        var rng = RNG(seed: 2)
        let pixels = (0..<(40 * 28 * 28)).map { _ in UInt8(rng.uniform() * 255) }
        let labels = (0..<40).map { $0 % 4 }
        let images = try ImageDataset(pixels: pixels, labels: labels, channels: 1, height: 28, width: 28, classCount: 4)
        let data = ContinualData(train: images, test: images, normalization: Normalization(mean: 0.5, std: 0.5))
        let tasks = try ClassIncrementalTasks(groups: [[0, 1], [2, 3]])
        var setup = ContinualSetup(epochsPerTask: 1)
        setup.batchSize = 8
        setup.exemplarsPerClass = 3
        for method in ContinualMethodKind.allCases {
            let result = try ContinualExitRun(method: method, variant: .earlyExit, tasks: tasks, data: data, setup: setup, seed: 0).run()
            #expect(result.test.exitCount == 4 && result.test.classCount == 4 && result.test.sampleCount == 40)
            #expect(result.lastTaskTraining.sampleCount == 20 && result.outputTask == [0, 0, 1, 1])
            #expect(result.finalTaskAgnostic.count == 4 && result.finalTaskAgnostic[0].count == 2)
            #expect(result.bufferViolations == 0)
            if method == .joint {
                #expect(result.taskAgnostic.isEmpty && result.taskAwareForgetting(exit: 0).isNaN)
            } else {
                #expect(result.taskAware.count == 4 && result.taskAware[3].taskCount == 2)
                #expect(result.taskAware[3][after: 1, on: 1] == result.finalTaskAware[3][1])
            }
        }
    }
}
