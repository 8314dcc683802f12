import DynamicKMoECore
import Foundation
import Testing
@testable import Lab

@Suite struct DynamicKMoETests {
    private func tinyModel(_ activation: FFNActivation = .relu, seed: UInt64 = 1) -> CharGPT {
        var rng = RNG(seed: seed)
        let model = CharGPT(GPTConfig(width: 8, layers: 2, heads: 2, ffnWidth: 16, context: 8, vocabularySize: 5), rng: &rng)
        model.activation = activation
        return model
    }

    @Test func squareHoyerMatchesHandValuesAndItsGradient() {
        // Rows (1, 1, 0, 0) → 2²/2 = 2 and (3, 0, 0, 0) → 9/9 = 1 (layer 1: mean 1.5); layer 2: (1, 1, 1, 1) → 16/4 = 4
        // and (0, 2, 0, 2) → 16/8 = 2 (mean 3). L_s = (1.5 + 3)/2 = 2.25.
        let layer1 = Tensor(shape: [2, 4], data: [1, 1, 0, 0, 3, 0, 0, 0])
        let layer2 = Tensor(shape: [2, 4], data: [1, 1, 1, 1, 0, 2, 0, 2])
        #expect(abs(squareHoyer([layer1, layer2]).item - 2.25) < 1e-6)
        let x = Tensor(shape: [3, 4], data: [0.5, 1, 2, 0.1, 1, 1, 0.2, 3, 0.4, 0.6, 0.8, 1])
        let r = gradientCheck([x]) { squareHoyer([$0[0]]) }
        #expect(r.maxError < 2e-2, "square Hoyer: \(r)")
        // α(t) = α·min(t/(T/2), 1): 0 at t = 0, half at T/4, full from T/2.
        #expect(hoyerWeight(alpha: 2e-3, step: 0, totalSteps: 80) == 0)
        #expect(abs(hoyerWeight(alpha: 2e-3, step: 20, totalSteps: 80) - 1e-3) < 1e-15)
        #expect(hoyerWeight(alpha: 2e-3, step: 60, totalSteps: 80) == 2e-3)
    }

    @Test func densitiesAndVariation() {
        let a = Tensor(shape: [2, 4], data: [1, 0, 2, 0, 0, 0, 0, 5])
        #expect(rowDensities(a) == [0.5, 0.25])
        // Values 1, 3: mean 2, population std 1, CV 0.5.
        let v = meanAndVariation([1, 3])
        #expect(v.mean == 2 && v.std == 1 && v.cv == 0.5)
    }

    @Test func costCurvesInterpolateAndTreatOutOfRangeBudgetsAsNotReached() {
        func curve(_ name: String, _ points: [(Double, Double)]) -> CostCurve {
            CostCurve(method: name, experts: 4, points: points.map { CostPoint(parameter: "", cost: $0.0, modelCost: $0.0, crossEntropy: $0.1, accuracy: 0) })
        }
        let a = curve("a", [(1.05, 1.0), (0.3, 1.4), (0.6, 1.1)])   // unsorted on purpose
        let b = curve("b", [(0.1, 2.0), (1.0, 1.0)])
        // a at 0.5: between (0.3, 1.4) and (0.6, 1.1): 1.4 − 0.3·(0.2/0.3) = 1.2; b at 0.5: 2 − (0.4/0.9) = 1.5556.
        #expect(abs(a.crossEntropy(atBudget: 0.5)! - 1.2) < 1e-12)
        let bAtHalf: Double = 2 - 0.4 / 0.9
        let compared = crossEntropyDifference(a, b, atBudget: 0.5)
        #expect(abs(compared.difference - (1.2 - bAtHalf)) < 1e-12 && compared.firstReached)
        // 0.25 is below a's cheapest point (0.3, CE 1.4): a does not reach it and is read there; b at 0.25 is
        // 2 − 0.15/0.9.
        #expect(a.crossEntropy(atBudget: 0.25) == nil)
        let below = crossEntropyDifference(a, b, atBudget: 0.25)
        #expect(!below.firstReached && abs(below.difference - (1.4 - (2 - 0.15 / 0.9))) < 1e-12)
        let swapped = crossEntropyDifference(b, a, atBudget: 0.25)
        #expect(swapped.firstReached && abs(swapped.difference + below.difference) < 1e-12)
        // 0.05 is below both: a at 1.4, b at its cheapest point (0.1, 2.0); 1.1 is above a's dearest point (1.05, 1.0).
        let neither = crossEntropyDifference(a, b, atBudget: 0.05)
        #expect(!neither.firstReached && abs(neither.difference - (1.4 - 2.0)) < 1e-12)
        #expect(a.clampedCrossEntropy(atBudget: 1.1) == (1.0, false))
        // Cost to reach CE ≤ 1.2 walking along cost: the crossing on the segment (0.3, 1.4)–(0.6, 1.1) at 0.5.
        #expect(abs(a.cost(reaching: 1.2)! - 0.5) < 1e-12)
        #expect(a.cost(reaching: 0.5) == nil)
    }

    @Test func layerLoadSpreadReadsLayersAndTokens() {
        // E = 4: k̄ = 1 and 3 → loads 0.25 and 0.75, ratio 3; per-token k/E: layer 0 (0, 0.5) std 0.25, layer 1 (0.75, 0.75) std 0.
        let spread = layerLoadSpread(meanSelected: [1, 3], tokenFractions: [[0, 0.5], [0.75, 0.75]], experts: 4)
        #expect(spread.layerRatio == 3 && spread.tokenStd == 0.125)
    }

    @Test func routerCacheTargetsAndTraining() {
        // BCE targets are divided by the batch maximum (over tokens and experts); norm targets are used as cached.
        let cache = RouterCache(inputs: Tensor(shape: [3, 2], data: [1, 0, 0, 1, 1, 1]), targets: [1, 2, 4, 0, 2, 2], experts: 2)
        #expect(cache.batchTargets(rows: [0, 2], objective: .activationBCE).data == [0.5, 1, 1, 1])
        #expect(cache.batchTargets(rows: [1], objective: .normRegression).data == [4, 0])
        // A norm router learns a learnable target: n = (|x_0|, 2|x_1|).
        var rng = RNG(seed: 4)
        let x = Tensor.randn([256, 2], rng: &rng)
        let targets = (0..<256).flatMap { [abs(x.data[2 * $0]), 2 * abs(x.data[2 * $0 + 1])] }
        let router = ExpertRouter(kind: .norm, inputSize: 2, hiddenSize: 16, experts: 2, rng: &rng)
        let losses = trainRouter(router, cache: RouterCache(inputs: x, targets: targets, experts: 2), objective: .normRegression,
                                 steps: 300, batchSize: 64, learningRate: 1e-2, rng: &rng)
        let first: Float = losses.prefix(5).reduce(0, +) / 5
        let last: Float = losses.suffix(20).reduce(0, +) / 20
        #expect(last < 0.2 * first)
    }

    @Test func charGPTIsCausalAndItsFFNHookReproducesTheDefault() {
        let model = tinyModel(.gelu)
        let ids = [0, 1, 2, 3, 4, 0, 1, 2]
        let logits = noGrad { model(ids, batch: 1, length: 8) }
        var changed = ids; changed[7] = 4
        let other = noGrad { model(changed, batch: 1, length: 8) }
        #expect(Array(logits.data[0..<35]) == Array(other.data[0..<35]))
        let hooked = noGrad { model(ids, batch: 1, length: 8) { layer, x in model.ffnOutput(layer: layer, model.ffnActivation(layer: layer, x)) } }
        #expect(hooked.data == logits.data)
        // Tied embeddings, learned positions, biases: 5·8 + 8·8 + 2·(2·8 + 4·(8·8 + 8) + 2·8 + (8·16 + 16) + (16·8 + 8)) + 2·8.
        let perBlock: Int = 16 + 288 + 16 + 144 + 136
        let expectedCount: Int = 40 + 64 + 2 * perBlock + 16
        #expect(model.parameterCount == expectedCount)
    }

    @Test func conversionWithEveryExpertEqualsTheDenseModelAndCountsExperts() {
        let model = tinyModel()
        var rng = RNG(seed: 2)
        let windows = (0..<3).map { _ in (0..<8).map { _ in rng.int(below: 5) } }
        let partitions = (0..<2).map { splitExperts(model, layer: $0, experts: 4, iterations: 5, rng: &rng) }
        #expect(partitions.allSatisfy { $0.misassignedNeurons == 0 && $0.maxSizeDeviation == 0 })
        let routers = (0..<2).map { _ in ExpertRouter(kind: .norm, inputSize: 8, hiddenSize: 4, experts: 4, rng: &rng) }
        let conversion = Conversion(partitions: partitions, routers: routers, cost: MoECost(width: 8, ffnWidth: 16, experts: 4, routerHidden: 4))
        let dense = evaluate(model, windows: windows, firstScored: 2)
        // 3 windows × (7 rows − 1 unscored) = 18 scored tokens.
        #expect(dense.stats.scored == 18 && dense.densities.allSatisfy { $0.count == 18 })
        for path in [FFNPath.masked, .expertSum] {
            let all = evaluate(model, windows: windows, firstScored: 2, conversion: conversion, gating: .dynamicK(tau: 0), path: path)
            #expect(all.meanSelected == [4, 4])
            #expect(zip(all.logits, dense.logits).allSatisfy { abs($0 - $1) < 1e-5 })
        }
        // top-1 runs one expert per token and layer: c = R/F + 1/4.
        let one = evaluate(model, windows: windows, firstScored: 2, conversion: conversion, gating: .topK(1))
        #expect(one.meanSelected == [1, 1] && one.tokenFractions.allSatisfy { $0.allSatisfy { $0 == 0.25 } })
        let routerFraction: Double = Double(2 * 8 * 4 + 2 * 4 * 4) / Double(4 * 8 * 16)
        #expect(conversion.cost.ffnFraction(meanSelected: one.meanSelected) == routerFraction + 0.25)
        // The activation cache holds every position of every window.
        let cache = cacheActivations(model, windows: windows, batch: 2)
        #expect(cache.inputs[1].shape == [24, 8] && cache.activations[0].shape == [24, 16])
    }
}
