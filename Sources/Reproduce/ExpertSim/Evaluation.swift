import ExpertSimCore
import Foundation
import Lab
import LabRun

// Scoring generated showers against the held-out simulation (docs/papers/expertsim.md §3.4), and one training job: train a
// model, follow its test WS per epoch, score it with fresh noise draws.

/// The held-out simulation every model is scored against.
struct TestReference: @unchecked Sendable {
    let events: PreparedEvents
    let conditions: Tensor                // [N, 9] standardised
    let channelSums: [[Double]]           // [N][5]
    let photonSums: [Double]              // [N]
    /// Test events of each MC photon-sum tercile (of the test set itself): the per-regime WS.
    let tercileEvents: [[Int]]
    /// The real test P90 of the photon sum (the tail threshold).
    let tailThreshold: Double

    init(events: PreparedEvents, raw: ZDCEvents) {
        self.events = events
        conditions = Tensor(shape: [events.count, conditionSize], data: events.conditions)
        channelSums = ZDCMetrics.channelSums(images: raw.images)
        photonSums = raw.photonSums
        let terciles = ZDCMetrics.terciles(photonSums, reference: photonSums)
        tercileEvents = (0..<3).map { t in terciles.indices.filter { terciles[$0] == t } }
        tailThreshold = Metrics.quantile(photonSums, 0.9)
    }

    /// The first `n` events (whole conditions first), for the cheap per-epoch curve.
    func prefix(_ n: Int) -> (conditions: Tensor, channelSums: [[Double]]) {
        let m = min(n, events.count)
        return (conditions.slice(axis: 0, 0..<m), Array(channelSums[0..<m]))
    }
}

/// The scores of one set of generated images (one noise draw).
struct DrawScores: Sendable {
    let channelWS: [Double]          // WS_1...WS_5
    var meanWS: Double { Metrics.mean(channelWS) }
    let tercileWS: [Double]          // mean WS over channels within each MC photon-sum tercile
    let photonSumW1: Double
    let tailFraction: Double         // share of generated sums above the real test P90
}

/// Scores channel sums of generated images (one per test event) against the test reference.
func score(generated: [[Double]], against reference: TestReference) -> DrawScores {
    let sums = generated.map { $0.reduce(0, +) }
    let tercileWS = reference.tercileEvents.map { rows in
        Metrics.mean(ZDCMetrics.channelWasserstein(real: rows.map { reference.channelSums[$0] },
                                                   generated: rows.map { generated[$0] }))
    }
    return DrawScores(
        channelWS: ZDCMetrics.channelWasserstein(real: reference.channelSums, generated: generated),
        tercileWS: tercileWS,
        photonSumW1: ZDCMetrics.wasserstein1EqualSize(reference.photonSums, sums),
        tailFraction: Double(sums.filter { $0 > reference.tailThreshold }.count) / Double(sums.count))
}

/// Generated images for every row of `conditions`, in batches (eval mode, no tape).
/// conditions: [N, 9] → (counts [N·1680], routes [N])
func generateAll(_ model: MixtureOfGenerators, conditions: Tensor, rng: inout RNG, batchSize: Int = 256)
    -> (images: [Float], routes: [Int])
{
    model.eval()
    defer { model.train() }
    let n = conditions.shape[0]
    var images = [Float](), routes = [Int]()
    images.reserveCapacity(n * ZDCSimulator.pixels)
    for start in stride(from: 0, to: n, by: batchSize) {
        let out = model.generate(conditions.slice(axis: 0, start..<min(start + batchSize, n)), rng: &rng)
        images += out.images.data
        routes += out.routes
    }
    return (images, routes)
}

/// What one training job hands back: the trained model, its test WS per epoch, and its scored draws.
struct TrainedModel: @unchecked Sendable {
    let model: MixtureOfGenerators
    let spec: ModelSpec
    /// Test WS (1 draw, first 300 test events) after each epoch; empty unless requested.
    let curve: [Double]
    /// One score per noise draw.
    let draws: [DrawScores]
    /// Draw 0's generated images and routes (figures, router tables).
    let sampleImages: [Float]
    let routes: [Int]
    let seconds: Double
}

/// Trains `spec` on the training set, then scores `draws` fresh noise draws on the test set. Single-threaded
/// (run inside a `JobPool`). Throws when a loss goes NaN.
func trainAndScore(_ spec: ModelSpec, config: TrainingConfig, train: TrainingTensors, test: TestReference,
                   draws: Int, curveEvents: Int?) throws -> TrainedModel {
    let watch = Stopwatch()
    let model = MixtureOfGenerators(spec: spec, config: config)
    var orderRNG = RNG(seed: UInt64(spec.seed)).derived("order/\(spec.name)")
    var curveRNG = RNG(seed: UInt64(spec.seed)).derived("curve/\(spec.name)")
    let n = train.events.count
    var curve: [Double] = []
    var step = 0
    for _ in 0..<config.epochs {
        let order = orderRNG.permutation(n)
        for start in stride(from: 0, to: n, by: config.batchSize) {
            let rows = Array(order[start..<min(start + config.batchSize, n)])
            guard rows.count >= 2 else { continue }
            step += 1
            let losses = model.trainStep(train.batch(rows))
            try checkFinite(losses.generator, what: "\(spec.name) seed \(spec.seed) generator loss", step: step)
            try checkFinite(losses.discriminator, what: "\(spec.name) seed \(spec.seed) discriminator loss", step: step)
            try checkFinite(losses.router, what: "\(spec.name) seed \(spec.seed) router loss", step: step)
        }
        if let curveEvents {
            let subset = test.prefix(curveEvents)
            let images = generateAll(model, conditions: subset.conditions, rng: &curveRNG).images
            curve.append(Metrics.mean(ZDCMetrics.channelWasserstein(real: subset.channelSums,
                                                                    generated: ZDCMetrics.channelSums(images: images))))
        }
    }
    var drawRNG = RNG(seed: UInt64(spec.seed)).derived("draws/\(spec.name)")
    var scores: [DrawScores] = []
    var first: (images: [Float], routes: [Int])?
    for _ in 0..<draws {
        let out = generateAll(model, conditions: test.conditions, rng: &drawRNG)
        scores.append(score(generated: ZDCMetrics.channelSums(images: out.images), against: test))
        if first == nil { first = out }
    }
    return TrainedModel(model: model, spec: spec, curve: curve, draws: scores, sampleImages: first!.images,
                        routes: first!.routes, seconds: watch.seconds)
}
