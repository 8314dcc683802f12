import Foundation
import Lab
import LabContinual
import LabData
import LabRun
import TeacherAdaptationCore

/// What one scale runs (docs/papers/teacher-adaptation.md §2). Full: 300 / 200 images per class, 5 epochs of
/// batch 32 per task, the 10-task `shift` and 5-task `noshift-5` sequences, 5 seeds. Smoke: the same code path
/// on 40 / 20 images per class, 2 epochs of batch 16, `shift` cut to 4 tasks and `noshift-5` to 3, 1 seed.
struct Plan {
    let scale: Scale
    let seeds: [Int]
    /// Images per class of both domains: training / test.
    let trainPerClass: Int, testPerClass: Int
    let recipe: TaskTrainingRecipe
    /// Tasks of `shift` (the long methods run all of them) and of `noshift-5`; `shift-5` is the first
    /// `matchedTaskCount` tasks of `shift`, matched to the control sequence.
    let shiftTasks: ClassIncrementalTasks
    let noshiftTasks: ClassIncrementalTasks
    var matchedTaskCount: Int { noshiftTasks.taskCount }
    /// The no-BN control: `noshift-5` tasks 0-1, 2 epochs, the first seed, LwF vs LwF+TA.
    let controlTasks: ClassIncrementalTasks
    let controlRecipe: TaskTrainingRecipe

    /// The methods run over every task of `shift`; the others stop after `shift-5` (budget).
    static let longMethods: [Method] = [.finetuning, .lwf, .lwfAdapted]
    /// Seeds 0-4 at full scale, seed 0 at smoke scale (from `--seed`).
    static func seedCount(scale: Scale) -> Int {
        switch scale {
        case .full: 5
        case .smoke: 1
        }
    }
    /// The subsets are drawn once with this seed, independent of the run seed.
    static let dataSeed: UInt64 = 1234
    /// x = (p/255 − 0.5)/0.5 for both domains.
    static let normalization = Normalization(mean: 0.5, std: 0.5)
    /// Learning rate × 0.1 after epochs 3 and 4 (epochs counted from 1), as milestones from 0.
    static let milestones = [3, 4]

    init(scale: Scale, seeds: [Int]) throws {
        self.scale = scale
        self.seeds = seeds
        switch scale {
        case .full:
            (trainPerClass, testPerClass) = (300, 200)
            recipe = TaskTrainingRecipe(epochsPerTask: 5, batchSize: 32, milestones: Self.milestones)
            shiftTasks = try .alternatingFashionDigits(taskCount: 10)
            noshiftTasks = try .fashionPairs(taskCount: 5)
        case .smoke:
            (trainPerClass, testPerClass) = (40, 20)
            recipe = TaskTrainingRecipe(epochsPerTask: 2, batchSize: 16, milestones: Self.milestones)
            shiftTasks = try .alternatingFashionDigits(taskCount: 4)
            noshiftTasks = try .fashionPairs(taskCount: 3)
        }
        controlTasks = try .fashionPairs(taskCount: 2)
        var control = recipe
        control.epochsPerTask = 2
        controlRecipe = control
    }

    /// Steps of one task: ⌈images / batch⌉ (a short last batch kept when ≥ the minimum) x epochs.
    var stepsPerTask: Int {
        let images = 2 * trainPerClass
        let batches = images / recipe.batchSize + (images % recipe.batchSize >= recipe.minimumBatchSize ? 1 : 0)
        return batches * recipe.epochsPerTask
    }

    /// The first 10% of a task's steps (the early KD error): steps 0-9 of 95.
    var earlySteps: Int { Int((0.1 * Double(stepsPerTask)).rounded(.up)) }
}

/// One (sequence, method) job of a seed.
struct Job: Sendable {
    var seed: Int
    var sequence: String
    var method: Method
    var tasks: ClassIncrementalTasks
    /// The no-BN control (its own first-task model and recipe).
    var control: Bool
}

/// Every run of the plan.
struct RunSet {
    /// The runs of both sequences, every seed and method (not the control).
    var runs: [SequenceRunResult]
    /// The no-BN control's LwF and LwF+TA runs.
    var control: (lwf: SequenceRunResult, adapted: SequenceRunResult)
    var firstTaskModels: [Int: FirstTaskModel]
    var firstTaskSeconds: Double

    static let shift = "shift", noshift = "noshift-5", matched = "shift-5"

    /// The shared first-task model of every seed (and of the control), then every (seed, sequence, method)
    /// job from it: on LabRun's job pool, 2 workers with single-threaded BLAS, longest jobs first.
    init(plan: Plan, data: ContinualData, quiet: Bool) throws {
        let experiment = DistillationExperiment(data: data, recipe: plan.recipe)
        let control = DistillationExperiment(data: data, recipe: plan.controlRecipe, batchNorm: false)
        let controlSeed = plan.seeds[0]
        let log: @Sendable (String) -> Void = { line in
            if !quiet { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        }

        let started = Date()
        let firstTaskWork: [@Sendable () throws -> FirstTaskModel] = plan.seeds.map { seed in
            { @Sendable in try experiment.trainFirstTask(tasks: plan.shiftTasks, seed: seed) }
        } + [{ @Sendable in try control.trainFirstTask(tasks: plan.controlTasks, seed: controlSeed) }]
        let firstTask = try JobPool.run(firstTaskWork, workers: 2)
        firstTaskSeconds = Date().timeIntervalSince(started)
        firstTaskModels = Dictionary(uniqueKeysWithValues: zip(plan.seeds, firstTask))
        let controlFirst = firstTask.last!
        for (seed, model) in zip(plan.seeds, firstTask) {
            log(String(format: "  seed %d: task 0 acc %.1f %%", seed, model.taskAgnosticAccuracy))
        }

        var jobs: [Job] = []
        for seed in plan.seeds {
            for method in Plan.longMethods {
                jobs.append(Job(seed: seed, sequence: Self.shift, method: method, tasks: plan.shiftTasks, control: false))
            }
        }
        for seed in plan.seeds {
            for method in Method.all where !Plan.longMethods.contains(method) {
                jobs.append(Job(seed: seed, sequence: Self.shift, method: method,
                                tasks: try ClassIncrementalTasks(groups: Array(plan.shiftTasks.groups.prefix(plan.matchedTaskCount))),
                                control: false))
            }
            for method in Method.all {
                jobs.append(Job(seed: seed, sequence: Self.noshift, method: method, tasks: plan.noshiftTasks, control: false))
            }
        }
        for method in [Method.lwf, .lwfAdapted] {
            jobs.append(Job(seed: controlSeed, sequence: "control", method: method, tasks: plan.controlTasks, control: true))
        }
        let models = firstTaskModels
        let work: [@Sendable () throws -> SequenceRunResult] = jobs.map { job in
            { @Sendable in
                let result = job.control
                    ? try control.run(job.method, sequence: job.sequence, tasks: job.tasks, seed: job.seed, from: controlFirst)
                    : try experiment.run(job.method, sequence: job.sequence, tasks: job.tasks, seed: job.seed,
                                         from: models[job.seed]!)
                log(String(format: "  seed %d %@ %@: final acc %.1f %%, %.1f s (%.1f s CPU)", job.seed, job.sequence,
                           job.method.name, result.taskAgnostic.finalAccuracy, result.seconds, result.cpuSeconds))
                return result
            }
        }
        let results = try JobPool.run(work, workers: 2)
        runs = results.filter { $0.sequence != "control" }
        let controls = results.filter { $0.sequence == "control" }
        self.control = (controls.first { $0.method == .lwf }!, controls.first { $0.method == .lwfAdapted }!)
    }

    /// The run of (seed, sequence, method); `shift-5` reads the `shift` run.
    func run(seed: Int, sequence: String, method: Method) -> SequenceRunResult {
        let stored = sequence == Self.matched ? Self.shift : sequence
        return runs.first { $0.seed == seed && $0.sequence == stored && $0.method == method }!
    }

    /// Whether (sequence, method) was run (LwF.MC ± TA stop after `shift-5`).
    func has(sequence: String, method: Method) -> Bool {
        sequence != Self.shift || Plan.longMethods.contains(method)
    }
}
