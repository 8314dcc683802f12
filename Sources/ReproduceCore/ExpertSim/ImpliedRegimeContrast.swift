import Foundation
import Lab

/// What the simulator's own parameters imply for the claim sim-heterogeneous (median photon sum of contained
/// showers over misses >= 100): the ratio in a very large sample, and its spread over training sets of the
/// run's size, from the count-only photon sums (`ZDCSimulator.countOnlyPhotonSum`, no photon loop).
///
///     let contrast = ImpliedRegimeContrast(conditions: 1500, replicas: 2, trainingSets: 200, rng: RNG(seed: 1))
///     contrast.populationRatio             // ≈ 98 with the design's parameters
public struct ImpliedRegimeContrast: Sendable {
    /// Medians of the photon sum of misses and of contained showers over `populationEvents` events.
    public let populationMedianMiss: Double, populationMedianContained: Double
    /// The contained / miss median ratio of each resampled training set (`conditions` x `replicas` events).
    public let trainingSetRatios: [Double]
    /// Fresh conditions behind the population medians (edge events among them are drawn and skipped).
    public let populationEvents: Int

    public var populationRatio: Double { populationMedianContained / populationMedianMiss }
    /// Share of the resampled training sets whose ratio reaches `threshold`.
    public func share(atLeast threshold: Double) -> Double {
        Double(trainingSetRatios.filter { $0 >= threshold }.count) / Double(trainingSetRatios.count)
    }

    public init(conditions: Int, replicas: Int, trainingSets: Int, populationEvents: Int = 200_000, rng: RNG) {
        self.populationEvents = populationEvents
        var populationRNG = rng.derived("population")
        var miss: [Double] = [], contained: [Double] = []
        for _ in 0..<populationEvents {
            let c = ZDCSimulator.sampleCondition(rng: &populationRNG)
            let regime = ZDCSimulator.regime(c)
            guard regime != .edge else { continue }
            let sum = Double(ZDCSimulator.countOnlyPhotonSum(c, rng: &populationRNG))
            if regime == .miss { miss.append(sum) } else { contained.append(sum) }
        }
        populationMedianMiss = Metrics.median(miss)
        populationMedianContained = Metrics.median(contained)

        trainingSetRatios = (0..<trainingSets).map { set in
            var setRNG = rng.derived("training-set").derived(set)
            var miss: [Double] = [], contained: [Double] = []
            for _ in 0..<conditions {
                let c = ZDCSimulator.sampleCondition(rng: &setRNG)
                let regime = ZDCSimulator.regime(c)
                guard regime != .edge else { continue }
                for _ in 0..<replicas {
                    let sum = Double(ZDCSimulator.countOnlyPhotonSum(c, rng: &setRNG))
                    if regime == .miss { miss.append(sum) } else { contained.append(sum) }
                }
            }
            return Metrics.median(contained) / Metrics.median(miss)
        }
    }
}
