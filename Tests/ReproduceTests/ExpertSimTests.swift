import Foundation
import Testing
@testable import ExpertSimCore
@testable import Lab

/// The paper-specific parts of expertsim that can be wrong in subtle ways: the ZDC simulator (geometry,
/// regimes, photon yield, determinism), the readout channels, the equal-size W1, the derived per-image
/// quantities and the best-permutation router accuracy.
@Suite struct ExpertSimTests {
    /// A condition aimed at (x0, y0) ≈ (15, 28): straight, on axis.
    func central(energy: Double, mass: Double = 0.94, charge: Double = 0) -> ParticleCondition {
        let p = (energy * energy - mass * mass).squareRoot()
        return ParticleCondition(energy: energy, vx: 0, vy: 0, vz: 0, px: 0, py: 0, pz: p, mass: mass, charge: charge)
    }

    @Test func impactPointAndRegimes() {
        // A neutral particle on axis hits the centre; a charged one bends by 12·q·ln(p/300) pixels.
        let neutron = central(energy: 500)
        let (x0, y0) = ZDCSimulator.impactPoint(neutron)
        #expect(abs(x0 - 15) < 1e-9 && abs(y0 - 28) < 1e-9)
        #expect(ZDCSimulator.regime(neutron) == .contained)
        let soft = central(energy: 300 * exp(-1.0), mass: 0.938, charge: 1)   // ln(p/300) ≈ −1 → x0 ≈ 3
        #expect(abs(ZDCSimulator.impactPoint(soft).x - 3) < 0.01)
        #expect(ZDCSimulator.regime(central(energy: 100, mass: 0.938, charge: 1)) == .edge)    // x0 ≈ 1.8
        #expect(ZDCSimulator.regime(central(energy: 20, mass: 0.938, charge: 1)) == .miss)     // x0 ≈ −17.5
        #expect(ZDCSimulator.regime(central(energy: 2000, mass: 0.1396, charge: -1)) == .miss) // x0 ≈ −7.8
    }

    @Test func conditionsFollowTheSpec() {
        var rng = RNG(seed: 3)
        let conditions = (0..<4000).map { _ in ZDCSimulator.sampleCondition(rng: &rng) }
        for c in conditions {
            #expect(c.energy >= 20 && c.energy <= 2000)
            // |p|² + m² = E² (p from E and m, then split into components).
            #expect(abs(c.momentum * c.momentum + c.mass * c.mass - c.energy * c.energy) < 1e-6 * c.energy * c.energy)
        }
        let protons = Double(conditions.filter { $0.charge == 1 && $0.mass > 0.9 }.count) / 4000
        let photons = Double(conditions.filter(\.isPhoton).count) / 4000
        #expect(abs(protons - 0.5) < 0.03 && abs(photons - 0.1) < 0.02)
        // log-uniform energy: median √(20·2000) = 200 GeV.
        #expect(abs(Metrics.median(conditions.map(\.energy)) / 200 - 1) < 0.1)
    }

    @Test func showerYieldAndShape() {
        // A 1 TeV central proton gives ~2,000 detected photons (3.3 per visible GeV, f ≈ 0.75, minus losses).
        var rng = RNG(seed: 5)
        let proton = central(energy: 1000, mass: 0.938, charge: 0.0)
        let sums = (0..<9).map { _ in ZDCSimulator.simulate(proton, rng: &rng).reduce(0, +) }
        let median = Metrics.median(sums.map(Double.init))
        #expect(median > 1500 && median < 3000, "median photon sum \(median)")
        // The brightest pixel of a contained shower sits near the impact point.
        let image = ZDCSimulator.simulate(central(energy: 800, mass: 0, charge: 0), rng: &rng)
        let peak = ZDCMetrics.maximumPosition(image)
        #expect(abs(peak.x * 29 - 15) <= 2 && abs(peak.y * 55 - 28) <= 2)
        // A miss has only border photons and dark counts: few, and none in the middle of the face.
        let miss = ZDCSimulator.simulate(central(energy: 20, mass: 0.938, charge: 1), rng: &rng)
        #expect(miss.reduce(0, +) < 30)
    }

    @Test func countOnlyPhotonSumsMatchThePhotonLoop() {
        // The count-only reading of the design (Poisson thinning, analytic face mass) and the photon-by-photon
        // simulator agree in their mean photon sum: a contained hadron, a contained photon, and an edge shower
        // (x0 ≈ 1.8, about half the halo off the face). 3 standard errors of the difference.
        for condition in [central(energy: 100), central(energy: 100, mass: 0, charge: 0),
                          central(energy: 100, mass: 0.938, charge: 1)] {
            var loopRNG = RNG(seed: 21), countRNG = RNG(seed: 22)
            let loop = (0..<200).map { _ in Double(ZDCSimulator.simulate(condition, rng: &loopRNG).reduce(0, +)) }
            let count = (0..<4000).map { _ in Double(ZDCSimulator.countOnlyPhotonSum(condition, rng: &countRNG)) }
            let error = (pow(Metrics.std(loop), 2) / 200 + pow(Metrics.std(count), 2) / 4000).squareRoot()
            #expect(abs(Metrics.mean(loop) - Metrics.mean(count)) < 3 * error,
                    "mass \(condition.mass) charge \(condition.charge): loop \(Metrics.mean(loop)), count-only \(Metrics.mean(count))")
        }
        // A miss: dark counts (0.003 · 1680 = 5.04) plus 0.01·E border photons, on average.
        var rng = RNG(seed: 23)
        let miss = central(energy: 20, mass: 0.938, charge: 1)
        let sums = (0..<20000).map { _ in Double(ZDCSimulator.countOnlyPhotonSum(miss, rng: &rng)) }
        #expect(abs(Metrics.mean(sums) - (5.04 + 0.2)) < 0.05)
    }

    @Test func impliedRegimeContrastIsComputedFromTheSimulator() {
        // Small sizes: the ratio of medians is finite and positive, and the training-set ratios scatter around
        // the population one.
        let contrast = ImpliedRegimeContrast(conditions: 300, replicas: 2, trainingSets: 8, populationEvents: 6000,
                                             rng: RNG(seed: 5))
        #expect(contrast.trainingSetRatios.count == 8)
        #expect(contrast.populationMedianMiss >= 4 && contrast.populationMedianMiss <= 8)
        #expect(contrast.populationRatio > 40 && contrast.populationRatio < 200)
        #expect(abs(Metrics.median(contrast.trainingSetRatios) / contrast.populationRatio - 1) < 0.25)
        #expect(contrast.share(atLeast: 0) == 1 && contrast.share(atLeast: .infinity) == 0)
    }

    @Test func simulationIsDeterministicAndThreadIndependent() {
        let rng = RNG(seed: 11)
        var conditionRNG = rng.derived("c")
        let conditions = (0..<6).map { _ in ZDCSimulator.sampleCondition(rng: &conditionRNG) }
        let one = ZDCEvents.simulate(conditions, replicas: 2, rng: rng, threads: 1)
        let two = ZDCEvents.simulate(conditions, replicas: 2, rng: rng, threads: 2)
        #expect(one.images == two.images)
        #expect(one.conditionIndex == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
        // Replicas of one condition differ (independent streams).
        #expect(Array(one.image(0)) != Array(one.image(1)))
    }

    @Test func channelsPartitionTheImage() {
        let counts = (0..<ZDCMetrics.channelCount).map { k in ZDCMetrics.channelOfPixel.filter { $0 == k }.count }
        // Colour B is half the face; each colour-A quadrant a quarter of the other half.
        #expect(counts == [210, 210, 210, 210, 840])
        #expect(ZDCMetrics.channelOfPixel[0] == 0)          // (0, 0): even, top-left
        #expect(ZDCMetrics.channelOfPixel[1] == 4)          // (0, 1): odd
        #expect(ZDCMetrics.channelOfPixel[16] == 1)         // (0, 16): even, top-right
        #expect(ZDCMetrics.channelOfPixel[29 * 30 + 1] == 2) // (29, 1): even, bottom-left
        var rng = RNG(seed: 2)
        let image = (0..<ZDCSimulator.pixels).map { _ in Float(rng.poisson(3)) }
        #expect(ZDCMetrics.channelSums(image).reduce(0, +) == Double(image.reduce(0, +)))
    }

    @Test func equalSizeWassersteinMatchesTheCDFIntegral() {
        var rng = RNG(seed: 9)
        for n in [1, 7, 100] {
            let a = (0..<n).map { _ in rng.normal() }, b = (0..<n).map { _ in rng.uniform(-1, 3) }
            #expect(abs(ZDCMetrics.wasserstein1EqualSize(a, b) - Metrics.wasserstein1(a, b)) < 1e-9)
        }
        #expect(ZDCMetrics.wasserstein1EqualSize([0, 1, 2], [2.5, 0.5, 1.5]) == 0.5)
        let real = [[1.0, 2, 3, 4, 5], [2.0, 3, 4, 5, 6]]
        #expect(ZDCMetrics.channelWasserstein(real: real, generated: real.map { $0.map { $0 + 2 } }) == [2, 2, 2, 2, 2])
    }

    @Test func derivedQuantities() {
        var image = [Float](repeating: 0, count: ZDCSimulator.pixels)
        image[10 * 30 + 29] = 5
        image[55 * 30 + 0] = 5       // a tie later in row-major order does not win
        let p = ZDCMetrics.maximumPosition(image)
        #expect(p.x == 1 && abs(p.y - 10.0 / 55) < 1e-12)
        // Two replicas differing by one photon in one pixel: std there is log(2)/2.
        var other = image
        other[0] = 1
        #expect(abs(ZDCMetrics.replicaSpread([image, other]) - log(2) / 2 / 1680) < 1e-12)
        #expect(ZDCMetrics.minMaxScaled([2, 4], reference: [0, 2, 4]) == [0.5, 1])
        // Thresholds: the linear-interpolation quantiles 1.667 and 2.333 of the reference.
        #expect(ZDCMetrics.terciles([0, 1.8, 2.5, 10], reference: [1, 2, 3]) == [0, 1, 2, 2])
    }

    @Test func preprocessingUsesTrainingStatistics() {
        let rng = RNG(seed: 4)
        var conditionRNG = rng.derived("c")
        let train = ZDCEvents.simulate((0..<30).map { _ in ZDCSimulator.sampleCondition(rng: &conditionRNG) },
                                       replicas: 2, rng: rng.derived("e"), threads: 2)
        let preprocessing = ZDCPreprocessing(fitting: train)
        let prepared = preprocessing.prepare(train)
        // Standardised training conditions: mean 0 and std 1 per variable.
        for j in 0..<9 {
            let column = (0..<prepared.count).map { Double(prepared.conditions[$0 * 9 + j]) }
            #expect(abs(Metrics.mean(column)) < 1e-5)
            #expect(abs(Metrics.std(column, unbiased: false) - 1) < 1e-4)
        }
        // Diversity weights and intensities span [0, 1] on the training set; groups are terciles per condition.
        #expect(prepared.diversityWeights.min() == 0 && prepared.diversityWeights.max() == 1)
        #expect(abs(Double(prepared.intensities.max()!) - 1) < 1e-6 && prepared.intensities.min() == 0)
        #expect(Set(prepared.intensityGroups) == [0, 1, 2])
        for i in stride(from: 0, to: prepared.count, by: 2) {
            #expect(prepared.intensityGroups[i] == prepared.intensityGroups[i + 1])
            #expect(prepared.diversityWeights[i] == prepared.diversityWeights[i + 1])
        }
        #expect(prepared.logImages[5] == Float(log1p(Double(train.images[5]))))
    }

    @Test func bestPermutationAccuracy() {
        // Experts are a relabelling of the groups: perfect accuracy under the best map.
        #expect(ZDCMetrics.bestPermutationAccuracy(assignments: [2, 2, 0, 0, 1, 1], groups: [0, 0, 1, 1, 2, 2], classes: 3) == 1)
        #expect(ZDCMetrics.bestPermutationAccuracy(assignments: [0, 0, 0, 0], groups: [0, 1, 2, 0], classes: 3) == 0.5)
        #expect(ZDCMetrics.permutations(of: [0, 1, 2]).count == 6)
    }

    @Test func positiveShareCountsLivePreActivationsPerGroup() {
        // 4 rows of 3 values; rows 0 and 2 → group 0, row 1 → group 2, row 3 → group 0; group 1 has no row.
        let values: [Float] = [1, -1, 0,   -2, -3, -0.5,   0.1, 2, -1,   5, 6, 7]
        let shares = ZDCMetrics.positiveShare(values, valuesPerRow: 3, groups: [0, 2, 0, 0], groupCount: 3)
        #expect(shares[0] == 6.0 / 9)          // 1, 0.1, 2, 5, 6, 7 of 9 (0 is not live)
        #expect(shares[1].isNaN)
        #expect(shares[2] == 0)                // a dead group: every pre-activation ≤ 0
    }
}
