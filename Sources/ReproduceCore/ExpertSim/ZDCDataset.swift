import Dispatch
import Foundation
import Lab

/// Simulated ZDC events: each unique condition simulated `replicas` times, events stored back to back.
public struct ZDCEvents: Sendable {
    /// The condition of every event (replicas of one condition are adjacent).
    public let conditions: [ParticleCondition]
    /// The unique-condition index of every event.
    public let conditionIndex: [Int]
    /// Photon counts, [N·56·30] row-major.
    public let images: [Float]
    public let replicas: Int

    public var count: Int { conditions.count }
    /// One event's image.
    public func image(_ event: Int) -> ArraySlice<Float> {
        images[(event * ZDCSimulator.pixels)..<((event + 1) * ZDCSimulator.pixels)]
    }
    /// Σ pixels of each event.
    public var photonSums: [Double] {
        (0..<count).map { e in image(e).reduce(0.0) { $0 + Double($1) } }
    }
    public var regimes: [Regime] { conditions.map(ZDCSimulator.regime) }

    /// Simulates `replicas` events per condition. Event (i, r) draws from `rng.derived(i, r)`, so the data do
    /// not depend on how many threads simulate them (`threads` workers, each running the single-threaded
    /// simulator on its own events).
    public static func simulate(_ unique: [ParticleCondition], replicas: Int, rng: RNG, threads: Int = 1) -> ZDCEvents {
        let n = unique.count * replicas
        var images = [Float](repeating: 0, count: n * ZDCSimulator.pixels)
        images.withUnsafeMutableBufferPointer { buffer in
            let shared = UncheckedSendable(buffer)
            let workers = max(1, min(threads, n))
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                for event in stride(from: worker, to: n, by: workers) {
                    var eventRNG = rng.derived(event / replicas, event % replicas)
                    let slice = UnsafeMutableBufferPointer(rebasing: shared.value[(event * ZDCSimulator.pixels)..<((event + 1) * ZDCSimulator.pixels)])
                    ZDCSimulator.simulate(unique[event / replicas], rng: &eventRNG, into: slice)
                }
            }
        }
        let index = (0..<n).map { $0 / replicas }
        return ZDCEvents(conditions: index.map { unique[$0] }, conditionIndex: index, images: images, replicas: replicas)
    }
}

/// Per-feature standardisation z = (x − μ)/σ with the training set's statistics (scikit-learn's
/// StandardScaler: population σ; a constant feature keeps σ = 1).
public struct StandardScaler: Sendable {
    public let mean: [Double], std: [Double]

    public init(fitting rows: [[Double]]) {
        precondition(!rows.isEmpty, "StandardScaler: no rows to fit")
        let d = rows[0].count, n = Double(rows.count)
        let mean = (0..<d).map { j in rows.reduce(0.0) { $0 + $1[j] } / n }
        self.mean = mean
        std = (0..<d).map { j in
            let variance = rows.reduce(0.0) { $0 + ($1[j] - mean[j]) * ($1[j] - mean[j]) } / n
            return variance > 0 ? variance.squareRoot() : 1
        }
    }

    public func transform(_ row: [Double]) -> [Float] {
        row.indices.map { Float((row[$0] - mean[$0]) / std[$0]) }
    }
}

/// The tensors a generator trains and is scored on (docs/papers/expertsim.md §3.1 "derived per image", §3.2 preprocessing).
public struct PreparedEvents: Sendable {
    public let count: Int
    /// log(1 + counts), [N, 1, 56, 30] flattened.
    public let logImages: [Float]
    /// Standardised conditions, [N, 9] flattened.
    public let conditions: [Float]
    /// Σ pixels (counts), [N].
    public let photonSums: [Float]
    /// Argmax pixel (x, y) in [0, 1], [N, 2] flattened.
    public let maximumPositions: [Float]
    /// Diversity weight s_c of the event's condition, min-max scaled on the training set, [N].
    public let diversityWeights: [Float]
    /// log(1 + photon sum) min-max scaled on the training set, [N] (the router's intensity I).
    public let intensities: [Float]
    /// Intensity group 0/1/2: the tercile (training thresholds) of the condition's mean log(1 + photon sum).
    public let intensityGroups: [Int]
}

/// Preprocessing fitted on the training events and applied to any set.
public struct ZDCPreprocessing: Sendable {
    public let scaler: StandardScaler
    /// Raw replica spreads of the training conditions (min-max reference of s_c).
    public let trainingSpreads: [Double]
    /// log(1 + photon sum) of the training events (min-max reference of I).
    public let trainingLogSums: [Double]
    /// Mean log(1 + photon sum) of each training condition (tercile reference of the intensity groups).
    public let trainingConditionLogSums: [Double]

    public init(fitting train: ZDCEvents) {
        scaler = StandardScaler(fitting: train.conditions.map(\.vector))
        trainingSpreads = Self.spreads(train)
        trainingLogSums = train.photonSums.map { Foundation.log1p($0) }
        trainingConditionLogSums = Self.conditionMeans(trainingLogSums, train)
    }

    static func spreads(_ events: ZDCEvents) -> [Double] {
        let conditions = events.count / events.replicas
        return (0..<conditions).map { i in
            ZDCMetrics.replicaSpread((0..<events.replicas).map { Array(events.image(i * events.replicas + $0)) })
        }
    }

    static func conditionMeans(_ values: [Double], _ events: ZDCEvents) -> [Double] {
        let conditions = events.count / events.replicas
        return (0..<conditions).map { i in
            (0..<events.replicas).reduce(0.0) { $0 + values[i * events.replicas + $1] } / Double(events.replicas)
        }
    }

    public func prepare(_ events: ZDCEvents) -> PreparedEvents {
        let sums = events.photonSums
        let logSums = sums.map { Foundation.log1p($0) }
        let spreads = ZDCMetrics.minMaxScaled(Self.spreads(events), reference: trainingSpreads)
        let groups = ZDCMetrics.terciles(Self.conditionMeans(logSums, events), reference: trainingConditionLogSums)
        var positions = [Float]()
        positions.reserveCapacity(events.count * 2)
        for e in 0..<events.count {
            let p = ZDCMetrics.maximumPosition(events.image(e))
            positions += [Float(p.x), Float(p.y)]
        }
        return PreparedEvents(
            count: events.count,
            logImages: events.images.map { Foundation.log1p($0) },
            conditions: events.conditions.flatMap { scaler.transform($0.vector) },
            photonSums: sums.map(Float.init),
            maximumPositions: positions,
            diversityWeights: events.conditionIndex.map { Float(spreads[$0]) },
            intensities: ZDCMetrics.minMaxScaled(logSums, reference: trainingLogSums).map(Float.init),
            intensityGroups: events.conditionIndex.map { groups[$0] })
    }
}
