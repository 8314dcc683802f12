import Foundation
import Testing
@testable import Lab

/// The fused per-sample affine layer (Tensor/BatchedAffine.swift) and the vectorised sin/cos (Tensor/FastTrig.swift).
@Suite struct BatchedAffineTests {
    @Test func fastSinAndCosMatchFloat64() {
        var worstSin = 0.0, worstCos = 0.0
        var rng = RNG(seed: 3)
        let special: [Float] = [0, -0, .pi / 2, -.pi / 2, .pi, 3 * .pi / 2, 1e-20, 1e4, -1e4, 12_345.678]
        for x in special + (0..<20_000).map({ _ in Float(rng.uniform(-1e4, 1e4)) }) + (0..<2_000).map({ _ in Float(rng.uniform(-4, 4)) }) {
            worstSin = max(worstSin, abs(Double(fastSin(x)) - sin(Double(x))))
            worstCos = max(worstCos, abs(Double(fastCos(x)) - cos(Double(x))))
        }
        #expect(worstSin < 1e-6, "fastSin max abs error \(worstSin)")
        #expect(worstCos < 1e-6, "fastCos max abs error \(worstCos)")
        #expect(fastSin(.nan).isNaN && fastCos(.infinity).isNaN && fastSin(-.infinity).isNaN)
    }

    /// The reference: matmul, broadcast bias add and the unfused activation.
    private func unfused(_ x: Tensor, _ w: Tensor, _ b: Tensor, _ activation: AffineActivation) -> Tensor {
        let batch = w.shape[0]
        let x3 = x.rank == 2 ? x.reshaped([1] + x.shape).broadcast(to: [batch] + x.shape) : x
        let z = x3.matmul(w) + b.reshaped([batch, 1, w.shape[2]])
        switch activation {
        case .identity: return z
        case .relu: return z.relu()
        case let .sine(omega): return z.sine(omega: omega)
        }
    }

    @Test func forwardMatchesMatmulBiasActivation() {
        for activation in [AffineActivation.identity, .relu, .sine(omega: 30)] {
            for shared in [true, false] {
                let x = shared ? rnd([5, 3], seed: 1) : rnd([2, 5, 3], seed: 1)
                let w = rnd([2, 3, 4], seed: 2), b = rnd([2, 4], seed: 3)
                let fused = x.batchedAffine(weight: w, bias: b, activation: activation)
                let reference = unfused(x, w, b, activation)
                #expect(fused.shape == [2, 5, 4])
                let error = zip(fused.data, reference.data).map { abs($0 - $1) }.max()!
                #expect(error < 1e-5, "\(activation), shared x \(shared): max difference \(error)")
            }
        }
    }

    @Test func gradientsOfEveryInput() {
        for activation in [AffineActivation.identity, .relu, .sine(omega: 2)] {
            for shared in [true, false] {
                // Weights and inputs kept small and the bias away from 0 so no pre-activation sits near relu's kink.
                let x = shared ? rnd([4, 3], seed: 11) : rnd([2, 4, 3], seed: 11)
                let w = rnd([2, 3, 2], seed: 12, low: -0.1, high: 0.1)
                let b = rnd([2, 2], seed: 13).map { $0 > 0 ? $0 + 0.5 : $0 - 0.5 }
                let r = gradientCheck([x, w, b], epsilon: 1e-3) { $0[0].batchedAffine(weight: $0[1], bias: $0[2], activation: activation) }
                #expect(r.maxError < 1e-2, "\(activation), shared x \(shared): \(r)")
            }
        }
    }

    @Test func recordsNothingUnderNoGrad() {
        let w = rnd([1, 2, 2], seed: 4)
        w.requiresGrad = true
        let y = noGrad { rnd([3, 2], seed: 5).batchedAffine(weight: w, bias: rnd([1, 2], seed: 6), activation: .relu) }
        #expect(!y.requiresGrad && y.parents.isEmpty)
    }
}
