import Foundation
import Testing
@testable import Lab
@testable import LabContinual
@testable import LabData
@testable import StabilityGapCore

/// The stability-gap metrics on a hand-made trace of three tasks, the schedule, the learning rate and the model
/// (the replay buffer is tested with the kit, in LabTests/ContinualTests).
@Suite struct StabilityGapTests {
    /// Tasks of 10, 20, 20 steps. Task 0: acc 80 then 90. Task 1 (old task 0 drops to 50 at step 2, ends at
    /// 85). Task 2 (old task 0 slides to 70 at its last step; old task 1 drops from 95 to 40 at step 3).
    static let trace: HeadTrace = {
        var trace = HeadTrace(taskSteps: [10, 20, 20])
        func add(_ task: Int, _ step: Int, _ accuracy: [Double], _ into: [Double]) {
            trace.points.append(EvaluationPoint(task: task, step: step, accuracy: accuracy, intoCurrentTask: into))
        }
        add(0, 5, [80], [1])
        add(0, 10, [90], [1])
        add(1, 1, [60, 30], [0.6, 1])
        add(1, 2, [50, 60], [0.5, 1])
        add(1, 4, [70, 80], [0.2, 1])
        add(1, 20, [85, 95], [0.1, 1])
        add(2, 1, [78, 50, 10], [0.4, 0.8, 1])
        add(2, 3, [75, 40, 70], [0.3, 0.5, 1])
        add(2, 20, [70, 90, 96], [0.1, 0.05, 1])
        return trace
    }()

    @Test func gapRecoveryAndLocationPerPair() {
        let pairs = Self.trace.taskPairGaps()
        #expect(pairs.map { [$0.task, $0.oldTask] } == [[1, 0], [2, 0], [2, 1]])
        #expect(pairs.map(\.referenceAccuracy) == [90, 85, 95])
        #expect(pairs.map(\.minimum) == [50, 70, 40])
        #expect(pairs.map(\.minimumStep) == [2, 20, 3])
        #expect(pairs.map(\.gap) == [40, 15, 55])
        #expect(pairs.map(\.recovery) == [35, 0, 50])
        #expect(pairs.map(\.isEarly) == [true, false, true])   // i* ≤ 0.2·20 = 4
        #expect(abs(pairs[0].normalizedGap - 40.0 / 90) < 1e-12)
    }

    @Test func worstCaseAccuracies() {
        let trace = Self.trace
        #expect(trace.minAccuracyPerTask() == [50, 55])
        // WC-ACC^1 = 95/2 + 50/2; WC-ACC^2 = 96/3 + (2/3)·55.
        let worstCase = trace.worstCaseAccuracyPerTask()
        #expect(abs(worstCase[0] - 72.5) < 1e-12)
        #expect(abs(worstCase[1] - (32 + 110.0 / 3)) < 1e-12)
    }

    @Test func summary() {
        let summary = Self.trace.summary()
        #expect(abs(summary.finalAccuracy - 256.0 / 3) < 1e-12)
        #expect(abs(summary.averageIncrementalAccuracy - (90 + 90 + 256.0 / 3) / 3) < 1e-12)
        #expect(abs(summary.minAccuracy - 52.5) < 1e-12)
        #expect(abs(summary.worstCaseAccuracy - (72.5 + 32 + 110.0 / 3) / 2) < 1e-12)
        #expect(abs(summary.gap - 110.0 / 3) < 1e-12)
        #expect(abs(summary.recovery - 85.0 / 3) < 1e-12)
        #expect(abs(summary.normalizedGap - (40.0 / 90 + 15.0 / 85 + 55.0 / 95) / 3) < 1e-12)
        #expect(abs(summary.earlyMinimumShare - 2.0 / 3) < 1e-12)
    }

    @Test func normalizedGapSkipsForgottenTasks() {
        // Task 0 ends at 0% (already forgotten): its pair has no normalised gap and is left out of the mean.
        var trace = HeadTrace(taskSteps: [4, 4, 4])
        trace.points = [
            EvaluationPoint(task: 0, step: 4, accuracy: [0], intoCurrentTask: [1]),
            EvaluationPoint(task: 1, step: 4, accuracy: [0, 80], intoCurrentTask: [1, 1]),
            EvaluationPoint(task: 2, step: 2, accuracy: [0, 60, 50], intoCurrentTask: [1, 0.5, 1]),
            EvaluationPoint(task: 2, step: 4, accuracy: [10, 70, 90], intoCurrentTask: [0.5, 0.5, 1]),
        ]
        #expect(trace.taskPairGaps().map(\.normalizedGap).filter(\.isNaN).count == 2)   // (1, 0) and (2, 0)
        #expect(abs(trace.summary().normalizedGap - 20.0 / 80) < 1e-12)
    }

    @Test func recency() {
        let trace = Self.trace
        #expect(trace.points[0].recency.isNaN)                       // task 0 has no old task
        #expect(abs(trace.points[6].recency - 0.6) < 1e-12)          // (0.4 + 0.8) / 2: the current task's own column is left out
        let summary = trace.summary()
        // Early (i ≤ 16): 0.6, 0.5, 0.2 in task 1; 0.6, 0.4 in task 2. End: 0.1 and 0.075.
        #expect(abs(summary.recencyEarly - 0.46) < 1e-12)
        #expect(abs(summary.recencyEnd - 0.0875) < 1e-12)
        #expect(trace.globalStep(task: 2, step: 3) == 33)
    }

    @Test func evaluationSchedule() {
        #expect(EvaluationSchedule.steps(task: 0, totalSteps: 187) == [32, 64, 96, 128, 160, 187])
        #expect(EvaluationSchedule.steps(task: 1, totalSteps: 225)
                == EvaluationSchedule.denseSteps + [128, 160, 192, 224, 225])
        #expect(EvaluationSchedule.steps(task: 2, totalSteps: 5) == [1, 2, 3, 4, 5])
        #expect(EvaluationSchedule.steps(task: 0, totalSteps: 5) == [5])
    }

    @Test func learningRate() throws {
        let setting = ContinualSetting(name: "test", tasks: try ClassIncrementalTasks(groups: [[0, 1]]), memory: 0,
                                       epochsPerTask: 6, batchSize: 32, currentPrototypeImages: 1, oraclePrototypeImages: 1)
        #expect(setting.learningRateFactor(epoch: 0) == 1)
        #expect(abs(setting.learningRateFactor(epoch: 3) - 0.505) < 1e-6)
    }

    @Test func modelShapesAndZeroHeads() {
        var rng = RNG(seed: 0)
        let model = IncrementalClassifier(rng: &rng)
        model.classifier.addHead(outputs: 2, initialization: .zeros, rng: &rng)
        model.classifier.addHead(outputs: 2, initialization: .zeros, rng: &rng)
        let features = model.backbone(Tensor.randn([3, 1, 28, 28], rng: &rng))
        #expect(features.shape == [3, 64])
        let logits = model.classifier(features)
        #expect(logits.shape == [3, 4])
        #expect(logits.data.allSatisfy { $0 == 0 })                  // zero-initialised heads
        #expect(model.parameterCount == 23_520 + 2 * (2 * 64 + 2))    // backbone + two heads
    }
}
