import ExpertSimCore
import Foundation
import Lab
import LabRun

// The experiment's parts (the sizes per scale are in Plan.swift): the simulated data, the trained models grouped
// by name, the non-learned reference rows, the timing, and the router analysis.

/// The simulated training, test and MC-vs-MC floor events.
struct SimulatedData: Sendable {
    let train: ZDCEvents, test: ZDCEvents
    /// A second simulation of the test conditions (independent stream): the best WS any model can expect.
    let floor: ZDCEvents
    /// What the simulator's parameters imply for the contained / miss photon-sum contrast (count-only sums).
    let impliedContrast: ImpliedRegimeContrast
    let seconds: Double

    init(plan: Plan, rng: RNG) {
        let watch = Stopwatch()
        var conditionRNG = rng.derived("train-conditions")
        let trainConditions = (0..<plan.trainConditions).map { _ in ZDCSimulator.sampleCondition(rng: &conditionRNG) }
        conditionRNG = rng.derived("test-conditions")
        let testConditions = (0..<plan.testConditions).map { _ in ZDCSimulator.sampleCondition(rng: &conditionRNG) }
        train = ZDCEvents.simulate(trainConditions, replicas: 2, rng: rng.derived("train-events"), threads: plan.simulationThreads)
        test = ZDCEvents.simulate(testConditions, replicas: 2, rng: rng.derived("test-events"), threads: plan.simulationThreads)
        floor = ZDCEvents.simulate(testConditions, replicas: 2, rng: rng.derived("floor-events"), threads: plan.simulationThreads)
        impliedContrast = ImpliedRegimeContrast(conditions: plan.trainConditions, replicas: 2,
                                                trainingSets: plan.contrastTrainingSets,
                                                populationEvents: plan.contrastPopulationEvents, rng: rng.derived("contrast"))
        seconds = watch.seconds
    }

    /// Median photon sum of the training events of one regime.
    func medianPhotonSum(_ regime: Regime) -> Double {
        let sums = train.photonSums, regimes = train.regimes
        return Metrics.median(sums.indices.filter { regimes[$0] == regime }.map { sums[$0] })
    }
}

/// Trained models grouped by name.
struct ModelResults {
    static let expertSim = "ExpertSim", singleSmall = "B1 single-small", singleWide = "B2 single-wide"
    static let randomRouting = "B3 random routing"
    static let names = [singleSmall, singleWide, randomRouting, expertSim]

    let all: [TrainedModel]
    let baseSeed: Int

    init(_ all: [TrainedModel], baseSeed: Int) {
        self.all = all
        self.baseSeed = baseSeed
    }

    func runs(_ name: String) -> [TrainedModel] { all.filter { $0.spec.name == name } }
    /// The run with the base seed (figures, timing).
    func base(_ name: String) -> TrainedModel { runs(name).first { $0.spec.seed == baseSeed }! }
    func seeds(_ name: String) -> [Int] { runs(name).map(\.spec.seed) }

    /// Every (seed, draw) score of a model.
    func draws(_ name: String) -> [DrawScores] { runs(name).flatMap(\.draws) }
    /// Mean and std of the mean WS over seeds x draws.
    func meanWS(_ name: String) -> (mean: Double, std: Double) {
        let values = draws(name).map(\.meanWS)
        return (Metrics.mean(values), values.count > 1 ? Metrics.std(values) : 0)
    }
    /// WS_k averaged over seeds x draws.
    func channelWS(_ name: String) -> [Double] {
        let d = draws(name)
        return (0..<ZDCMetrics.channelCount).map { k in Metrics.mean(d.map { $0.channelWS[k] }) }
    }
}

/// The non-learned reference rows of the WS table (docs/papers/expertsim.md §3.2).
struct ReferenceScores {
    /// A second simulation of the test conditions.
    let floor: [Double]
    /// The mean training image for every condition.
    let meanImage: [Double]
    /// The training image of the nearest standardised condition.
    let nearestNeighbour: [Double]

    init(data: SimulatedData, test: TestReference, preprocessing: ZDCPreprocessing) {
        floor = ZDCMetrics.channelWasserstein(real: test.channelSums, generated: ZDCMetrics.channelSums(images: data.floor.images))

        let pixels = ZDCSimulator.pixels
        var mean = [Double](repeating: 0, count: pixels)
        for e in 0..<data.train.count { for (p, v) in data.train.image(e).enumerated() { mean[p] += Double(v) } }
        let meanSums = ZDCMetrics.channelSums(mean.map { Float($0 / Double(data.train.count)) })
        meanImage = ZDCMetrics.channelWasserstein(real: test.channelSums,
                                                  generated: [[Double]](repeating: meanSums, count: test.channelSums.count))

        let trainConditions = data.train.conditions.map { preprocessing.scaler.transform($0.vector) }
        let trainSums = ZDCMetrics.channelSums(images: data.train.images)
        let retrieved = data.test.conditions.map { condition -> [Double] in
            let query = preprocessing.scaler.transform(condition.vector)
            var best = Float.infinity, nearest = 0
            for (index, candidate) in trainConditions.enumerated() {
                var distance: Float = 0
                for j in 0..<query.count { distance += (query[j] - candidate[j]) * (query[j] - candidate[j]) }
                if distance < best { (best, nearest) = (distance, index) }
            }
            return trainSums[nearest]
        }
        nearestNeighbour = ZDCMetrics.channelWasserstein(real: test.channelSums, generated: retrieved)
    }
}

/// Timing of the MC simulator and of the generators, all on one thread (docs/papers/expertsim.md §3.4).
struct SpeedResults {
    let mcEnergies: [Double], mcMilliseconds: [Double], mcRegimes: [Regime]
    let mcEvents: Int
    /// Mean MC ms/event over the test mix, and per energy tercile (low, mid, high).
    let mcMean: Double, mcTerciles: [Double]
    /// Mean ms/event of the top energy tercile over the bottom one, hits (not misses) only.
    let costGrowth: Double
    /// ms/image at batch 1 and at `largeBatch` (256 at full scale), by model name (base seed).
    let batchOne: [String: Double], batchMany: [String: Double]
    let largeBatch: Int

    static func measure(results: ModelResults, plan: Plan, rng: RNG) -> SpeedResults {
        Parallel.withThreads(1) { measureOnOneThread(results: results, plan: plan, rng: rng) }
    }

    private static func measureOnOneThread(results: ModelResults, plan: Plan, rng: RNG) -> SpeedResults {
        var conditionRNG = rng.derived("conditions")
        let conditions = (0..<plan.timingConditions).map { _ in ZDCSimulator.sampleCondition(rng: &conditionRNG) }
        var image = [Float](repeating: 0, count: ZDCSimulator.pixels)
        var milliseconds: [Double] = []
        image.withUnsafeMutableBufferPointer { buffer in
            var warmRNG = rng.derived("warm-up")
            ZDCSimulator.simulate(conditions[0], rng: &warmRNG, into: buffer)
            for (index, condition) in conditions.enumerated() {
                var eventRNG = rng.derived(index)
                let watch = Stopwatch()
                ZDCSimulator.simulate(condition, rng: &eventRNG, into: buffer)
                milliseconds.append(watch.seconds * 1e3)
            }
        }
        let energies = conditions.map(\.energy)
        let regimes = conditions.map(ZDCSimulator.regime)
        let terciles = ZDCMetrics.terciles(energies, reference: energies)
        let tercileMeans = (0..<3).map { t in Metrics.mean(milliseconds.indices.filter { terciles[$0] == t }.map { milliseconds[$0] }) }
        let hitMean = { (t: Int) in
            Metrics.mean(milliseconds.indices.filter { terciles[$0] == t && regimes[$0] != .miss }.map { milliseconds[$0] })
        }

        var batchOne: [String: Double] = [:], batchMany: [String: Double] = [:]
        for name in ModelResults.names {
            let model = results.base(name).model
            var timingRNG = rng.derived("generate/\(name)")
            batchMany[name] = millisecondsPerImage(model, batch: plan.timingBatch, calls: 1, rng: &timingRNG, test: results)
            batchOne[name] = millisecondsPerImage(model, batch: 1, calls: plan.batchOneImages, rng: &timingRNG, test: results)
        }
        return SpeedResults(mcEnergies: energies, mcMilliseconds: milliseconds, mcRegimes: regimes,
                            mcEvents: conditions.count, mcMean: Metrics.mean(milliseconds), mcTerciles: tercileMeans,
                            costGrowth: hitMean(2) / hitMean(0), batchOne: batchOne, batchMany: batchMany,
                            largeBatch: plan.timingBatch)
    }

    /// Best of 3 (after a warm-up) of `calls` pipeline calls at `batch` images each, in ms per image. Conditions
    /// are random standardised vectors: the pipeline's cost does not depend on their values.
    private static func millisecondsPerImage(_ model: MixtureOfGenerators, batch: Int, calls: Int, rng: inout RNG,
                                             test: ModelResults) -> Double {
        model.eval()
        defer { model.train() }
        let conditions = Tensor.randn([batch, conditionSize], rng: &rng)
        _ = model.generate(conditions, rng: &rng)
        var best = Double.infinity
        for _ in 0..<3 {
            let watch = Stopwatch()
            for _ in 0..<calls { _ = model.generate(conditions, rng: &rng) }
            best = min(best, watch.seconds)
        }
        return best * 1e3 / Double(batch * calls)
    }
}

/// How ExpertSim's router splits the test events, per seed (docs/papers/expertsim.md §3.4 "Router").
struct RouterAnalysis {
    struct Seed {
        let seed: Int
        let routes: [Int]
        let load: [Double]
        let medianPhotonSum: [Double]
        /// Median photon sum of the images each expert generated for its routed events (draw 0).
        let medianGeneratedPhotonSum: [Double]
        /// KS[i][j] between the real photon sums routed to experts i and j (NaN when one gets none).
        let ks: [[Double]]
        let tercileAccuracy: Double
        /// Per expert, on the test conditions routed to it (fresh noise, eval mode, after training): the share of
        /// its generator's final-layer pre-activations that are > 0 (the pixels the output ReLU passes, and the
        /// only ones a gradient flows back through; a dead expert has ~0), and their median.
        let liveShare: [Double]
        let medianPreActivation: [Double]
        /// Smallest off-diagonal KS (0 when an expert gets no event).
        var minimumKS: Double {
            var m = Double.infinity
            for i in ks.indices { for j in ks.indices where j > i { m = min(m, ks[i][j].isNaN ? 0 : ks[i][j]) } }
            return m
        }
    }

    let experts: Int
    let seeds: [Seed]
    let baseSeed: Int
    var base: Seed { seeds.first { $0.seed == baseSeed }! }

    init(results: ModelResults, test: TestReference, data: SimulatedData) {
        let runs = results.runs(ModelResults.expertSim)
        experts = runs[0].spec.experts
        baseSeed = results.baseSeed
        let sums = test.photonSums
        seeds = runs.map { run in
            let routed = (0..<run.spec.experts).map { k in run.routes.indices.filter { run.routes[$0] == k }.map { sums[$0] } }
            let generatedSums = ZDCMetrics.channelSums(images: run.sampleImages).map { $0.reduce(0, +) }
            let generated = (0..<run.spec.experts).map { k in
                run.routes.indices.filter { run.routes[$0] == k }.map { generatedSums[$0] }
            }
            let ks = routed.indices.map { i in routed.indices.map { j in Metrics.ksStatistic(routed[i], routed[j]) } }
            let preActivations = Self.routedPreActivations(run, conditions: test.conditions)
            return Seed(seed: run.spec.seed, routes: run.routes,
                        load: routed.map { Double($0.count) / Double(sums.count) },
                        medianPhotonSum: routed.map { $0.isEmpty ? .nan : Metrics.median($0) },
                        medianGeneratedPhotonSum: generated.map { $0.isEmpty ? .nan : Metrics.median($0) },
                        ks: ks,
                        tercileAccuracy: ZDCMetrics.bestPermutationAccuracy(assignments: run.routes, groups: test.events.intensityGroups,
                                                                            classes: run.spec.experts),
                        liveShare: ZDCMetrics.positiveShare(preActivations.values, valuesPerRow: ZDCSimulator.pixels,
                                                            groups: preActivations.groups, groupCount: run.spec.experts),
                        medianPreActivation: preActivations.medians)
        }
    }

    /// Each expert's final-layer pre-activations on the test conditions it was routed (draw 0's routes), with
    /// noise from a stream of its own: a pure evaluation after training that moves no other stream and no weight.
    private static func routedPreActivations(_ run: TrainedModel, conditions: Tensor)
        -> (values: [Float], groups: [Int], medians: [Double])
    {
        let model = run.model
        model.eval()
        defer { model.train() }
        var rng = RNG(seed: UInt64(run.spec.seed)).derived("pre-activations/\(run.spec.name)")
        var values: [Float] = [], groups: [Int] = [], medians: [Double] = []
        for (k, expert) in model.experts.enumerated() {
            let rows = run.routes.indices.filter { run.routes[$0] == k }
            guard !rows.isEmpty else { medians.append(.nan); continue }
            let noise = Tensor.randn([rows.count, noiseSize], rng: &rng)
            let pre = noGrad { expert.generator.preActivation(noise: noise, conditions: conditions.indexSelect(axis: 0, rows)) }
            values += pre.data
            groups += [Int](repeating: k, count: rows.count)
            medians.append(Metrics.median(pre.data.map(Double.init)))
        }
        return (values, groups, medians)
    }

    /// Mean over seeds of the smallest pairwise KS and of the smallest test load.
    var meanMinimumKS: Double { Metrics.mean(seeds.map(\.minimumKS)) }
    var meanMinimumLoad: Double { Metrics.mean(seeds.map { $0.load.min() ?? 0 }) }
}
