import Foundation
import Testing
@testable import Lab

/// Gumbel-softmax, the straight-through one-hot and the cosine-similarity matrix (NN/Gumbel.swift).
@Suite struct GumbelTests {
    @Test func gumbelSoftmaxGradient() {
        let logits = rnd([4, 3], seed: 21, low: -2, high: 2)
        // The same noise on every evaluation: a fresh generator with a fixed seed inside the closure.
        let r = gradientCheck([logits]) { inputs in
            var rng = RNG(seed: 5)
            return inputs[0].gumbelSoftmax(temperature: 0.7, rng: &rng)
        }
        #expect(r.maxError < 1e-2, "gumbelSoftmax: \(r)")
    }

    @Test func hardSampleIsOneHotWithTheSoftGradient() {
        let logits = rnd([5, 4], seed: 3, low: -1, high: 1)
        logits.requiresGrad = true
        var rng = RNG(seed: 8)
        let hard = logits.gumbelSoftmax(temperature: 1, hard: true, rng: &rng)
        for row in 0..<5 {
            let values = Array(hard.data[(row * 4)..<((row + 1) * 4)])
            #expect(values.filter { $0 == 1 }.count == 1 && values.filter { $0 == 0 }.count == 3)
        }
        let weights = rnd([5, 4], seed: 4)
        (hard * weights).sum().backward()
        let hardGrad = logits.grad!.data

        logits.grad = nil
        rng = RNG(seed: 8)
        let soft = logits.gumbelSoftmax(temperature: 1, hard: false, rng: &rng)
        (soft * weights).sum().backward()
        #expect(zip(hardGrad, logits.grad!.data).allSatisfy { abs($0 - $1) < 1e-6 })
        // The hard sample is the argmax of the soft one (same noise).
        #expect(hard.argmax(axis: -1) == soft.argmax(axis: -1))
    }

    @Test func gumbelSamplesFollowTheSoftmax() {
        // argmax(logits + Gumbel) is a draw from softmax(logits).
        let logits = Tensor(shape: [1, 3], data: [0, log(2), log(5)])
        var rng = RNG(seed: 1)
        var counts = [0, 0, 0]
        for _ in 0..<8000 { counts[logits.gumbelSoftmax(hard: true, rng: &rng).argmax(axis: -1)[0]] += 1 }
        let expected = [1.0 / 8, 2.0 / 8, 5.0 / 8]
        for k in 0..<3 { #expect(abs(Double(counts[k]) / 8000 - expected[k]) < 0.02) }
    }

    @Test func straightThroughPassesTheGradientUnchanged() {
        let x = rnd([2, 3], seed: 6)
        x.requiresGrad = true
        let g = rnd([2, 3], seed: 7)
        (x.straightThroughOneHot() * g).sum().backward()
        #expect(x.grad!.data == g.data)
    }

    @Test func cosineSimilarityMatrix() {
        let a = Tensor(rows: [[1, 0], [1, 1], [0, 0]]), b = Tensor(rows: [[2, 0], [0, -3]])
        let s = Tensor.cosineSimilarityMatrix(a, b)
        #expect(s.shape == [3, 2])
        let expected: [Float] = [1, 0, Float(0.5.squareRoot()), -Float(0.5.squareRoot()), 0, 0]
        #expect(zip(s.data, expected).allSatisfy { abs($0 - $1) < 1e-6 })
        let x = rnd([3, 4], seed: 12), y = rnd([5, 4], seed: 13)
        let r = gradientCheck([x, y], epsilon: 1e-3) { inputs in Tensor.cosineSimilarityMatrix(inputs[0], inputs[1]) }
        #expect(r.maxError < 1e-2, "cosineSimilarityMatrix: \(r)")
    }
}
