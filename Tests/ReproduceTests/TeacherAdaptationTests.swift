import Foundation
import Testing
@testable import Lab
@testable import LabContinual
@testable import LabData
@testable import TeacherAdaptationCore

/// The KD errors against hand-computed values, the methods, the recipe, and Teacher Adaptation on a tiny run
/// (a frozen teacher whose only change is its BatchNorm statistics; D = 0 at the switch; no effect without BN).
@Suite struct TeacherAdaptationTests {
    @Test func softmaxKLMatchesHandComputation() {
        // Teacher [2, 0], student [0, 0], τ = 2: p_T = softmax([1, 0]) = [a, 1 − a], p_S = [½, ½]:
        // KL = a log 2a + (1 − a) log 2(1 − a); the second row agrees (KL 0), so D is half of it.
        let a = exp(1.0) / (exp(1.0) + 1)
        let expected = a * log(2 * a) + (1 - a) * log(2 * (1 - a))
        let measured = KDError.softmaxKL(student: [0, 0, 1, 3], teacher: [2, 0, 1, 3], classes: 2, temperature: 2)
        #expect(abs(measured - expected / 2) < 1e-7)
        #expect(KDError.softmaxKL(student: [1, 2, 3], teacher: [1, 2, 3], classes: 3, temperature: 2) == 0)
        #expect(Distillation.lwf.error(student: [0, 0], teacher: [2, 0], classes: 2) > 0)
    }

    @Test func bernoulliKLMatchesHandComputation() {
        // One row of two outputs: output 0 teacher 2, student 0 (q = σ(2), p = ½): q log 2q + (1 − q) log 2(1 − q);
        // output 1 agrees (0).
        let q = 1 / (1 + exp(-2.0))
        let expected = q * log(2 * q) + (1 - q) * log(2 * (1 - q))
        #expect(abs(KDError.bernoulliKL(student: [0, -1], teacher: [2, -1], classes: 2) - expected) < 1e-7)
        // Two rows: the sum over outputs, the mean over rows.
        #expect(abs(KDError.bernoulliKL(student: [0, -1, 5, 5], teacher: [2, -1, 5, 5], classes: 2) - expected / 2) < 1e-7)
        #expect(Distillation.none.error(student: [0], teacher: [0], classes: 1).isNaN)
    }

    @Test func firstHeadShareCountsPredictionsInHeadZero() {
        // Outputs 0..<2 are head 0: predictions 0, 3, 1, 2, 5 → 2 of 5 = 40 %.
        #expect(DistillationLearner.percent(of: [0, 3, 1, 2, 5], in: 0..<2) == 40)
        #expect(DistillationLearner.percent(of: [2, 3], in: 0..<2) == 0)
        #expect(DistillationLearner.percent(of: [], in: 0..<2).isNaN)
    }

    @Test func methodsAndRecipe() {
        #expect(Method.all.map(\.name) == ["FT", "LwF", "LwF+TA", "LwF.MC", "LwF.MC+TA"])
        #expect(Method.lwfMultiClassAdapted.withoutAdaptation == .lwfMultiClass)
        #expect(Distillation.lwf.weight == 10 && Distillation.lwfMultiClass.weight == 1 && Distillation.none.weight == 0)
        let recipe = TaskTrainingRecipe(epochsPerTask: 5, batchSize: 32, milestones: [3, 4])
        let rates = (0..<5).map(recipe.learningRate(epoch:))
        #expect(rates[0] == 0.1 && rates[2] == 0.1 && abs(rates[3] - 0.01) < 1e-8 && abs(rates[4] - 0.001) < 1e-9)
        // LwF's training loss on the old heads is the Lab loss at τ = 2, ε = 1e-5.
        let student = Tensor(rows: [[2, 0]]), teacher = Tensor(rows: [[0, 0]])
        #expect(Distillation.lwf.loss(student: student, teacher: teacher).item
                == softenedDistillationCrossEntropy(student: student, teacher: teacher, temperature: 2, epsilon: 1e-5).item)
    }

    /// 4 classes of random 28x28 images (two tasks of two classes), `perClass` per class in train and test.
    static func tinyData(perClass: Int) throws -> ContinualData {
        var rng = RNG(seed: 11)
        var pixels: [UInt8] = [], labels: [Int] = []
        for i in 0..<(4 * perClass) {
            let c = i % 4
            // Class c brightens its own quarter of the image, so the tasks are learnable.
            pixels += (0..<784).map { p in UInt8(min(255, Int(rng.uniform(0, 120)) + (p / 196 == c ? 120 : 0))) }
            labels.append(c)
        }
        let images = try ImageDataset(pixels: pixels, labels: labels, channels: 1, height: 28, width: 28, classCount: 4)
        return ContinualData(train: images, test: images, normalization: Normalization(mean: 0.5, std: 0.5))
    }

    @Test func teacherAdaptationChangesOnlyBatchNormStatistics() throws {
        let data = try Self.tinyData(perClass: 12)
        let tasks = try ClassIncrementalTasks(groups: [[0, 1], [2, 3]])
        let recipe = TaskTrainingRecipe(epochsPerTask: 1, batchSize: 8, milestones: [])
        let experiment = DistillationExperiment(data: data, recipe: recipe)
        let first = try experiment.trainFirstTask(tasks: tasks, seed: 3)
        let plain = try experiment.run(.lwf, sequence: "tiny", tasks: tasks, seed: 3, from: first)
        let adapted = try experiment.run(.lwfAdapted, sequence: "tiny", tasks: tasks, seed: 3, from: first)
        #expect(plain.startParameters == adapted.startParameters)
        #expect(plain.steps.count == 3 && adapted.steps.count == 3)                  // 24 images in batches of 8
        // With TA, student and teacher agree on the first batch; without it, only the BN statistics differ.
        #expect(adapted.steps[0].kdError <= 1e-6)
        #expect(plain.steps[0].kdError > 1e-4)
        // The frozen teacher: no parameter moves; with TA its running means do, without TA they do not.
        #expect(adapted.maxTeacherParameterChange == 0 && plain.maxTeacherParameterChange == 0)
        #expect(adapted.maxTeacherRunningMeanChange > 0 && plain.maxTeacherRunningMeanChange == 0)
        #expect(adapted.taskAgnostic.taskCount == 2 && adapted.taskAgnostic[after: 0, on: 0] == first.taskAgnosticAccuracy)
        // The same batches: the CE of the first step (before any update) is equal.
        #expect(plain.steps[0].crossEntropy == adapted.steps[0].crossEntropy)
        // One share of task 1's test images taken by head 0, a percentage.
        #expect(plain.firstHeadShare.count == 1 && (0...100).contains(plain.firstHeadShare[0]))
    }

    @Test func teacherAdaptationIsANoOpWithoutBatchNorm() throws {
        let data = try Self.tinyData(perClass: 12)
        let tasks = try ClassIncrementalTasks(groups: [[0, 1], [2, 3]])
        let experiment = DistillationExperiment(data: data, recipe: TaskTrainingRecipe(epochsPerTask: 1, batchSize: 8, milestones: []),
                                                batchNorm: false)
        let first = try experiment.trainFirstTask(tasks: tasks, seed: 5)
        let plain = try experiment.run(.lwf, sequence: "tiny", tasks: tasks, seed: 5, from: first)
        let adapted = try experiment.run(.lwfAdapted, sequence: "tiny", tasks: tasks, seed: 5, from: first)
        #expect(plain.steps == adapted.steps)
        #expect(plain.taskAgnostic == adapted.taskAgnostic)
        #expect(plain.steps[0].kdError == 0)                                        // equal networks, no BN
    }
}
