import Foundation
import Testing
@testable import HyperSoundCore
import Lab
import LabSignal

@Suite struct HyperSoundTests {
    @Test func parameterCountsAndLayoutFollowTheSpec() {
        let nerf = TargetNetwork(kind: .nerf), siren = TargetNetwork(kind: .siren)
        #expect(nerf.parameterCount == 5_761 && siren.parameterCount == 4_849)
        #expect(nerf.inputSize == 20 && siren.inputSize == 1)
        // Blocks are contiguous: W then b for each layer, layer after layer.
        for network in [nerf, siren] {
            #expect(network.layers[0].weightOffset == 0)
            for (a, b) in zip(network.layers, network.layers.dropFirst()) { #expect(a.end == b.weightOffset) }
            #expect(network.layers.map(\.outputs) == [48, 48, 48, 1])
        }
    }

    @Test func coordinatesAndFourierFeatures() {
        let t = TargetNetwork.coordinates(count: 5)
        #expect(t == [-1, -0.5, 0, 0.5, 1])
        let features = TargetNetwork(kind: .nerf, fourierBands: 3).inputFeatures(coordinates: [0.25])
        #expect(features.shape == [1, 6])
        for i in 0..<3 {
            let angle = pow(2, Double(i)) * Double.pi * 0.25
            #expect(abs(Double(features.data[2 * i]) - sin(angle)) < 1e-6)
            #expect(abs(Double(features.data[2 * i + 1]) - cos(angle)) < 1e-6)
        }
    }

    @Test func batchedRenderEqualsPlainModulePerSample() {
        var rng = RNG(seed: 3)
        for kind in TargetKind.allCases {
            let network = TargetNetwork(kind: kind)
            let features = network.inputFeatures(coordinates: TargetNetwork.coordinates(count: 64))
            let thetas = (0..<3).map { _ in network.initialParameters(rng: &rng) }
            let rendered = noGrad { network.render(Tensor(shape: [3, network.parameterCount], data: thetas.flatMap { $0 }), features: features) }
            #expect(rendered.shape == [3, 64])
            for (b, theta) in thetas.enumerated() {
                let plain = noGrad { PlainTargetINR(network: network, theta: theta)(features) }
                let difference = zip(rendered.data[(b * 64)..<((b + 1) * 64)], plain.data).map { abs($0 - $1) }.max()!
                #expect(difference < 1e-5, "\(kind) sample \(b): \(difference)")
            }
            // Distinct θ give distinct signals: the batch really uses per-sample weights.
            #expect(rendered.data[0..<64] != rendered.data[64..<128])
        }
    }

    @Test func renderGradientMatchesFiniteDifferences() {
        var rng = RNG(seed: 5)
        for kind in TargetKind.allCases {
            let network = TargetNetwork(kind: kind, fourierBands: 2, hiddenSize: 4, hiddenLayers: 2, firstOmega: 3, omega: 2)
            let features = network.inputFeatures(coordinates: TargetNetwork.coordinates(count: 6))
            let theta = Tensor(shape: [2, network.parameterCount],
                               data: (0..<(2 * network.parameterCount)).map { _ in Float(rng.uniform(-1, 1)) }, requiresGrad: true)
            // A small step keeps the finite differences of the ReLU network off its kinks.
            let result = gradientCheck([theta], epsilon: 1e-3) { network.render($0[0], features: features) }
            #expect(result.maxError < 1e-2, "\(kind): \(result)")
        }
    }

    @Test func headsAroundOneTargetInitStayNearIt() {
        var rng = RNG(seed: 1)
        let model = HyperSound(target: TargetNetwork(kind: .nerf), samples: 1_024,
                               outputInitialisation: .aroundTargetInit(spread: 0.1), rng: &rng)
        #expect(model.encoder.embeddingSize == 128)
        let x = Tensor.randn([2, 1_024], rng: &rng)
        let theta = noGrad { model.theta(for: x) }
        #expect(theta.shape == [2, 5_761])
        // θ = θ0 + W·h with W ~ N(0, (0.1 s_j)²/256): the deviation from the bias is a small fraction of the init scale.
        let bias = model.hypernetwork.output.bias!.data
        let deviations = model.target.initStandardDeviations()
        var ratio = 0.0
        for j in 0..<5_761 { ratio += Double(abs(theta.data[j] - bias[j]) / deviations[j]) }
        ratio /= 5_761
        #expect(ratio > 0.005 && ratio < 0.5, "mean |θ - θ0|/s = \(ratio)")
        #expect(noGrad { model(x) }.shape == [2, 1_024])
    }

    @Test func fanInHeadsFollowTheAuthorsRule() {
        var rng = RNG(seed: 2)
        let target = TargetNetwork(kind: .nerf)
        let hypernetwork = HyperNetwork(embeddingSize: 8, target: target, hiddenSize: 64, outputInitialisation: .fanIn, rng: &rng)
        let weight = hypernetwork.output.weight.data, width = 64
        #expect(hypernetwork.output.bias!.data.allSatisfy { $0 == 0 })
        for layer in target.layers {
            // Rows of W_ℓ: U(±√(3/(fanIn·H))), variance 1/(fanIn·H); rows of b_ℓ: U(±√(3/H)), variance 1/H.
            for (rows, variance) in [(layer.weightOffset..<layer.biasOffset, 1 / Double(layer.inputs * width)),
                                     (layer.biasOffset..<layer.end, 1 / Double(width))] {
                let values = rows.flatMap { j in (0..<width).map { Double(weight[j * width + $0]) } }
                let bound = (3 * variance).squareRoot()
                #expect(values.allSatisfy { abs($0) <= bound * (1 + 1e-6) })
                let measured = values.reduce(0) { $0 + $1 * $1 } / Double(values.count)
                #expect(abs(measured / variance - 1) < 0.2, "layer \(layer) variance \(measured) vs \(variance)")
            }
        }
    }

    @Test func clipSpreadSplitsSharedAndClipDependentParts() {
        // Columns 0 and 1: means 2 and 0, deviations ±1 and ±3 → shared √((4 + 0)/2) = √2, across √((1 + 9)/2) = √5.
        let vectors: [[Float]] = [[3, 3, 7], [1, -3, 7]]
        let spread = ClipSpread(vectors, columns: 0..<2)
        #expect(abs(spread.shared - 2.0.squareRoot()) < 1e-12 && abs(spread.acrossClips - 5.0.squareRoot()) < 1e-12)
        #expect(abs(spread.rootMeanSquare - 7.0.squareRoot()) < 1e-12)
        // A column every clip shares has no across-clip part.
        #expect(ClipSpread(vectors, columns: 2..<3).acrossClips == 0)
        // perLayer reads each layer's weight block only.
        let network = TargetNetwork(kind: .siren, hiddenSize: 2, hiddenLayers: 1)
        var theta = [Float](repeating: 9, count: network.parameterCount)
        for layer in network.layers { for j in layer.weightOffset..<layer.biasOffset { theta[j] = 1 } }
        #expect(ClipSpread.perLayer([theta, theta], network: network).map(\.shared) == [1, 1])
    }

    @Test func fileSplitIsFixedDisjointAndComplete() {
        let (train, test) = HyperSoundClips.splitByFile(count: 568)
        #expect(test.count == 85 && train.count == 483)
        #expect(Set(train).isDisjoint(with: test) && Set(train + test) == Set(0..<568))
        let again = HyperSoundClips.splitByFile(count: 568)
        #expect(again.train == train && again.test == test)
        #expect(HyperSoundClips.splitByFile(count: 568, seed: 99).test != test)
    }

    @Test func evaluationClipIsLoudestWindowNormalised() {
        var signal = [Float](repeating: 0, count: 10_000)
        for i in 6_000..<6_500 { signal[i] = 0.5 * sin(Float(i)) }
        let clip = HyperSoundClips.evaluationClip(signal, length: 1_024)
        #expect(clip.count == 1_024)
        #expect(abs(clip.map(abs).max()! - 1) < 1e-6)
        let short = HyperSoundClips.evaluationClip([0.5, -0.25], length: 8)
        #expect(short == [1, -0.5, 0, 0, 0, 0, 0, 0])
    }

    @Test func retrievalSkipsTheQueryItself() {
        let candidates: [[Float]] = [[0, 0], [1, 1], [5, 5]]
        #expect(HyperSoundClips.nearestNeighbour(of: [0.9, 0.9], among: candidates) == 1)
        #expect(HyperSoundClips.nearestNeighbour(of: [1, 1], among: candidates, excluding: 1) == 0)
    }

    @Test func firstStepRule() {
        let steps = [0, 10, 25, 50, 100, 250, 500]
        #expect(firstStep(reaching: 0.5, steps: steps, values: [2, 1, 0.6, 0.5, 0.4, 0.3, 0.2]) == 50)
        #expect(firstStep(reaching: 0.1, steps: steps, values: [2, 1, 0.6, 0.5, 0.4, 0.3, 0.2]) == nil)
        #expect(firstStep(reaching: 3, steps: steps, values: [2, 1, 0.6, 0.5, 0.4, 0.3, 0.2]) == 0)
    }

    @Test func spectralErrorAndMetricsOfKnownSignals() {
        let x = (0..<2_048).map { Float(sin(Double($0) * 0.3)) }
        let same = SpectralError.perBin(references: [x], estimates: [x])
        #expect(same.count == 129 && same.allSatisfy { $0 == 0 })
        let half = SpectralError.perBin(references: [x], estimates: [x.map { $0 / 2 }])
        // Where the signal dominates the 1e-5 floor, halving the amplitude costs 10·log10(4) ≈ 6.02 dB.
        #expect(abs(half.max()! - 10 * log10(4.0)) < 0.05)
        let zero = ClipMetrics(reference: x, estimate: [Float](repeating: 0, count: x.count))
        #expect(zero.scaleInvariantSNR == nil && abs(zero.signalToNoise) < 1e-9)
        let mean = MeanMetrics([zero, ClipMetrics(reference: x, estimate: x.map { $0 * 0.5 })])
        #expect(mean.scaleInvariantSNR != nil && mean.clips == 2)
    }

    @Test func perClipFitLowersTheLoss() throws {
        let network = TargetNetwork(kind: .nerf, hiddenSize: 16, hiddenLayers: 2)
        let clip = (0..<512).map { Float(sin(Double($0) * 0.05)) }
        var rng = RNG(seed: 2)
        let fit = try fitINR(clip: clip, network: network,
                             features: network.inputFeatures(coordinates: TargetNetwork.coordinates(count: 512)),
                             initial: network.initialParameters(rng: &rng), steps: 30, logSteps: [0, 10, 30], learningRate: 1e-2)
        #expect(fit.steps == [0, 10, 30])
        #expect(fit.losses[2] < 0.7 * fit.losses[0], "\(fit.losses)")
    }
}
