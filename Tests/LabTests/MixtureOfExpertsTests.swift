import Foundation
import Testing
@testable import Lab

@Suite struct MixtureOfExpertsTests {
    @Test func balancedAssignmentIsGreedyByDistanceWithCapacity() {
        // 4 points, 2 clusters of capacity 2. Sorted pairs: (0,0) 0.1, (1,0) 0.2, (2,0) 0.3, (3,1) 0.4, (2,1) 0.5, ...
        // Point 2 finds cluster 0 full (points 0 and 1) and goes to cluster 1 at 0.5, even though 0.3 < 0.5.
        let distances: [Float] = [0.1, 0.9,
                                  0.2, 0.8,
                                  0.3, 0.5,
                                  0.7, 0.4]
        #expect(balancedAssignment(distances: distances, points: 4, clusters: 2, capacity: 2) == [0, 0, 1, 1])
        // Ties go to the lower pair index (point, then cluster).
        #expect(balancedAssignment(distances: [1, 1, 1, 1], points: 2, clusters: 2, capacity: 1) == [0, 1])
    }

    @Test func balancedKMeansSplitsClearClustersEqually() {
        // Three points near (1, 0), three near (0, 1): an unbalanced k-means would be fine too; a fourth point near
        // (1, 0) in a 4+2 layout must move to the other cluster under balance.
        let points: [Float] = [1, 0, 0.95, 0.05, 0.9, 0.1, 0.97, 0.0, 0, 1, 0.05, 0.95]
        var rng = RNG(seed: 3)
        let clusters = balancedKMeans(points: points, dimension: 2, clusters: 2, iterations: 10, rng: &rng)
        #expect(clusters.map(\.count) == [3, 3])
        #expect(Set(clusters.flatMap { $0 }) == Set(0..<6))
        // Points 4 and 5 (near (0, 1)) share a cluster with one of the four (1, 0) points. The run converges to
        // {1, 2, 3} / {0, 4, 5}, a fixed point of the balanced Lloyd step: the first centroid is (0.94, 0.05), and
        // the squared distances of points 1, 3, 2, 0 to it are 0.0001, 0.0034, 0.0041, 0.0061, so the greedy
        // assignment fills it with 1, 3, 2 and pushes point 0 to the other cluster (centroid (0.35, 0.65)).
        let ofFour = clusters.first { $0.contains(4) }!
        #expect(ofFour == [0, 4, 5])
    }

    @Test func partitionCountsMisassignedNeuronsAndSizeDeviation() {
        let good = ExpertPartition(experts: [[0, 2], [1, 3]], neuronCount: 4)
        #expect(good.misassignedNeurons == 0 && good.maxSizeDeviation == 0)
        #expect(good.expertOfNeuron == [0, 1, 0, 1])
        // Neuron 1 twice, neuron 3 never; sizes 3 and 1 vs m/E = 2.
        let bad = ExpertPartition(experts: [[0, 1, 2], [1]], neuronCount: 4)
        #expect(bad.misassignedNeurons == 2 && bad.maxSizeDeviation == 1)
    }

    @Test func gatingRulesSelectByRatioToTheMaxOrByRank() {
        let scores: [Float] = [4, 1, 2, 3,
                               0, 0, 5, 0]
        // τ = 0.5: threshold 2 (row 0: 4, 2, 3 pass) and 2.5 (row 1: only 5).
        #expect(ExpertGating.dynamicK(tau: 0.5).select(scores: scores, experts: 4) == [true, false, true, true, false, false, true, false])
        // τ = 0 selects everything (scores ≥ 0); τ = 1 only the max.
        #expect(ExpertGating.dynamicK(tau: 0).select(scores: scores, experts: 4).allSatisfy { $0 })
        #expect(ExpertGating.dynamicK(tau: 1).select(scores: scores, experts: 4) == [true, false, false, false, false, false, true, false])
        // Top-2: the two largest; ties (row 1's zeros) to the lower index.
        #expect(ExpertGating.topK(2).select(scores: scores, experts: 4) == [true, false, false, true, true, false, true, false])
        #expect(ExpertGating.topK(9).select(scores: scores, experts: 4).allSatisfy { $0 })
        #expect(selectedCounts(ExpertGating.dynamicK(tau: 0.5).select(scores: scores, experts: 4), experts: 4) == [3, 1])
    }

    @Test func expertOutputsNormsSumsAndMaskingMatchHandValues() {
        // m = 4 neurons, experts {0, 1} and {2, 3}; d = 2; W2 [2, 4].
        let partition = ExpertPartition(experts: [[0, 1], [2, 3]], neuronCount: 4)
        let a = Tensor(shape: [2, 4], data: [1, 2, 0, 3,
                                             0, 0, 1, 1])
        let w2 = Tensor(shape: [2, 4], data: [1, 0, 2, 0,
                                              0, 1, 0, 2])
        let b2 = Tensor(shape: [2], data: [10, 20])
        // Token 0: expert 0 → W2[:, 0..1]·(1, 2) = (1, 2), norm √5; expert 1 → W2[:, 2..3]·(0, 3) = (0, 6), norm 6.
        // Token 1: expert 0 → (0, 0); expert 1 → (2, 2), norm √8.
        let norms = expertOutputNorms(a, downWeight: w2, partition: partition)
        let expected: [Float] = [Float(5).squareRoot(), 6, 0, Float(8).squareRoot()]
        #expect(zip(norms, expected).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(expertActivationSums(a, partition: partition) == [3, 3, 0, 2])
        let selection = [true, false, false, true]
        #expect(maskedExpertActivations(a, partition: partition, selection: selection).data == [1, 2, 0, 0, 0, 0, 1, 1])
        // Σ selected + b2: token 0 → (1, 2) + (10, 20); token 1 → (2, 2) + (10, 20).
        #expect(expertSumOutput(a, downWeight: w2, downBias: b2, partition: partition, selection: selection).data == [11, 22, 12, 22])
        // With every expert selected the expert sum equals the dense W2 a + b2.
        let all = expertSumOutput(a, downWeight: w2, downBias: b2, partition: partition, selection: [Bool](repeating: true, count: 4))
        let dense = noGrad { a.linear(weight: w2, bias: b2) }
        #expect(zip(all.data, dense.data).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func routersOutputNonNegativeNormsOrLogits() {
        var rng = RNG(seed: 1)
        let x = Tensor.randn([5, 6], rng: &rng)
        let norm = ExpertRouter(kind: .norm, inputSize: 6, hiddenSize: 3, experts: 4, rng: &rng)
        let out = noGrad { norm(x) }
        #expect(out.shape == [5, 4] && out.data.allSatisfy { $0 >= 0 })
        let logits = ExpertRouter(kind: .logits, inputSize: 6, hiddenSize: 3, experts: 4, rng: &rng)
        // z = W_b tanh(W_a x + b_a) + b_b by hand.
        let byHand = noGrad { logits.output(logits.hidden(x).tanh()) }
        #expect(noGrad { logits(x) }.data == byHand.data)
        let r = gradientCheck([x]) { _ in norm(x) }
        #expect(r.maxError < 2e-2, "norm router: \(r)")
    }

    @Test func moeCostCountsMatmulFLOPs() {
        // d = 128, m = 512, E = 64, h = 32: F = 4·128·512 = 262,144; expert 4·128·8 = 4,096; R = 2·128·32 + 2·32·64 = 12,288.
        let cost = MoECost(width: 128, ffnWidth: 512, experts: 64, routerHidden: 32)
        #expect(cost.denseFFN == 262_144 && cost.expert == 4_096 && cost.router == 12_288)
        // R/F = 0.046875; all experts in every layer: c = 1 + R/F; layers with k̄ = 32 and 16: R/F + 24/64.
        #expect(cost.ffnFraction(meanSelected: [64, 64, 64, 64]) == 1.046875)
        let halfLoad: Double = cost.ffnFraction(meanSelected: [32, 16])
        #expect(abs(halfLoad - 0.421875) < 1e-15)
        #expect(MoECost(width: 128, ffnWidth: 512, experts: 16, routerHidden: 32).router / 262_144 == 0.03515625)
        #expect(MoECost(width: 128, ffnWidth: 512, experts: 128, routerHidden: 32).router / 262_144 == 0.0625)
        // Non-FFN: 4·(8·128² + 4·64.5·128) + 2·128·63 = 672,512; the FFN is 1,048,576 / 1,721,088 of the model.
        let nonFFN = MoECost.decoderNonFFN(width: 128, layers: 4, meanContext: 64.5, vocabulary: 63)
        #expect(nonFFN == 672_512)
        let modelFraction: Double = cost.modelFraction(ffnFraction: 0.5, layers: 4, nonFFN: nonFFN)
        let expectedFraction: Double = 1_196_800.0 / 1_721_088.0
        #expect(abs(modelFraction - expectedFraction) < 1e-15)
    }

    @Test func autoregressiveWindowStatsScoresRowsFromFirstScored() {
        // Two windows of 3 ids (2 inputs), vocabulary 2, firstScored 2: only row 1 of each window is scored.
        let logits: [Float] = [0, 0, 0, 5,
                               9, 0, 5, 0]
        let stats = autoregressiveWindowStats(logits: logits, vocabulary: 2, windows: [[0, 1, 1], [1, 0, 1]], firstScored: 2)
        #expect(stats.map(\.scored) == [1, 1])
        // Window 0 row 1 predicts 1 (logit 5 vs 0: correct); window 1 row 1 predicts 0 but the target is 1.
        #expect(stats.map(\.correct) == [1, 0])
        let expectedNLL: Double = 5 + log(1 + exp(-5.0))
        #expect(abs(stats[1].negativeLogLikelihood - expectedNLL) < 1e-5)
    }
}
