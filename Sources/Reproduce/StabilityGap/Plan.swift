import Foundation
import Lab
import LabContinual
import LabData
import LabRun
import StabilityGapCore

/// The three settings of the design (docs/papers/stability-gap.md) at one scale, and the seeds each runs with.
struct Plan {
    var scale: Scale
    /// Seeds of the main setting (all of the run's seeds), of `fm-10x2` (the first two) and of `memory` (the first).
    var mainSeeds: [Int]
    var sequenceSeeds: [Int]
    var memorySeed: Int

    var main: ContinualSetting
    var sequence: ContinualSetting
    /// `memory`: the main setting with these M (the main setting's own M comes from its first seed's run).
    var memorySizes: [Int]

    /// Images per class: Fashion train / test, MNIST-5k train / test.
    var fashionTrainPerClass: Int, fashionTestPerClass: Int
    var sequenceFashionTrainPerClass: Int, sequenceFashionTestPerClass: Int
    var mnistTrainPerClass: Int, mnistTestPerClass: Int

    /// The subsets are drawn once with this seed, independent of the run seed: the test sets are the same in
    /// every run.
    static let dataSeed: UInt64 = 1234

    /// Epochs per task at full scale: the design's 6 (its first cut rule would take it to 4 if the run exceeded
    /// 8 minutes; measured, it does not: see `init`).
    static let fullEpochsPerTask = 6

    /// x = (p/255 − 0.5)/0.5, as the authors' transforms.
    static let normalization = Normalization(mean: 0.5, std: 0.5)

    init(scale: Scale, seeds: [Int]) throws {
        self.scale = scale
        switch scale {
        case .full:
            // Full: batch 32 (paper 128), 500 / 150 images per class, the design's 6 epochs per task (paper 100).
            // Measured at 4 epochs: about 510 s of single-core work (dense evaluation is two thirds of it), so 6
            // epochs cost about 1.3 times that and fit 8 minutes on two cores without the design's cut rules.
            mainSeeds = seeds
            sequenceSeeds = Array(seeds.prefix(2))
            fashionTrainPerClass = 500; fashionTestPerClass = 150
            sequenceFashionTrainPerClass = 400; sequenceFashionTestPerClass = 150
            mnistTrainPerClass = 400; mnistTestPerClass = 100
            main = ContinualSetting(name: "fashion-5x2", tasks: try .fashionPairs(taskCount: 5), memory: 200,
                                    epochsPerTask: Self.fullEpochsPerTask, batchSize: 32, currentPrototypeImages: 100,
                                    oraclePrototypeImages: 150)
            sequence = ContinualSetting(name: "fm-10x2", tasks: try .alternatingFashionDigits(taskCount: 10), memory: 200,
                                        epochsPerTask: Self.fullEpochsPerTask, batchSize: 32, currentPrototypeImages: 100,
                                        oraclePrototypeImages: 60)
            memorySizes = [50, 500]
        case .smoke:
            // Smoke: the same code path on a few images; claims are computed but may fail at this size.
            mainSeeds = Array(seeds.prefix(1))
            sequenceSeeds = Array(seeds.prefix(1))
            fashionTrainPerClass = 60; fashionTestPerClass = 20
            sequenceFashionTrainPerClass = 40; sequenceFashionTestPerClass = 20
            mnistTrainPerClass = 40; mnistTestPerClass = 20
            main = ContinualSetting(name: "fashion-5x2", tasks: try .fashionPairs(taskCount: 3), memory: 20,
                                    epochsPerTask: 2, batchSize: 16, currentPrototypeImages: 30,
                                    oraclePrototypeImages: 30)
            sequence = ContinualSetting(name: "fm-10x2", tasks: try .alternatingFashionDigits(taskCount: 4), memory: 20,
                                        epochsPerTask: 2, batchSize: 16, currentPrototypeImages: 20,
                                        oraclePrototypeImages: 20)
            memorySizes = [10]
        }
        memorySeed = seeds[0]
    }

    /// The main setting with another memory size.
    func memorySetting(_ memory: Int) -> ContinualSetting {
        var setting = main
        setting.name = "memory"
        setting.memory = memory
        return setting
    }

    /// Every memory size of the memory figure, ascending (the main M included).
    var allMemorySizes: [Int] { (memorySizes + [main.memory]).sorted() }
}

/// The data of both settings, drawn once.
struct PlanData {
    var main: ContinualData
    var sequence: ContinualData

    /// Loads Fashion-MNIST and MNIST-5k (missing files name their `make data-…` target) and draws the subsets.
    init(plan: Plan) throws {
        let (fashionTrain, fashionTest) = try FashionMNIST.load()
        let mnist = try MNIST5k.load()
        let dataRNG = RNG(seed: Plan.dataSeed)
        main = try ContinualData.fashion(train: fashionTrain, test: fashionTest,
                                         trainPerClass: plan.fashionTrainPerClass,
                                         testPerClass: plan.fashionTestPerClass,
                                         normalization: Plan.normalization, dataRNG: dataRNG)
        sequence = try ContinualData.fashionAndDigits(
            fashionTrain: fashionTrain, fashionTest: fashionTest, mnist: mnist,
            fashionTrainPerClass: plan.sequenceFashionTrainPerClass,
            fashionTestPerClass: plan.sequenceFashionTestPerClass,
            mnistTrainPerClass: plan.mnistTrainPerClass, mnistTestPerClass: plan.mnistTestPerClass,
            normalization: Plan.normalization, dataRNG: dataRNG)
    }
}

/// Every training run of the plan, keyed by (setting, seed, M).
struct RunSet {
    var results: [ContinualRunResult]

    /// Runs every job of the plan on LabRun's job pool (2 workers, single-threaded BLAS each), longest first.
    init(plan: Plan, data: PlanData, quiet: Bool) throws {
        var jobs: [(setting: ContinualSetting, data: ContinualData, seed: Int)] = []
        for seed in plan.sequenceSeeds { jobs.append((plan.sequence, data.sequence, seed)) }
        for memory in plan.memorySizes.sorted(by: >) { jobs.append((plan.memorySetting(memory), data.main, plan.memorySeed)) }
        for seed in plan.mainSeeds { jobs.append((plan.main, data.main, seed)) }
        let work: [@Sendable () throws -> ContinualRunResult] = jobs.map { job in
            { @Sendable in
                let result = try ContinualLearner(setting: job.setting, data: job.data, seed: job.seed).run()
                if !quiet {
                    let line = String(format: "  %@ seed %d M %d: %.1f s (%.1f s CPU)\n", job.setting.name, job.seed,
                                      job.setting.memory, result.seconds, result.cpuSeconds)
                    FileHandle.standardError.write(Data(line.utf8))
                }
                return result
            }
        }
        results = try JobPool.run(work, workers: 2)
    }

    func runs(_ setting: String, memory: Int? = nil) -> [ContinualRunResult] {
        results.filter { $0.setting == setting && (memory == nil || $0.memory == memory!) }
            .sorted { $0.seed < $1.seed }
    }

    /// The memory-figure run of size M: the main setting's first seed for its own M, else the memory runs.
    func memoryRun(_ memory: Int, plan: Plan) -> ContinualRunResult {
        if memory == plan.main.memory { return runs(plan.main.name).first { $0.seed == plan.memorySeed }! }
        return runs("memory", memory: memory)[0]
    }
}
