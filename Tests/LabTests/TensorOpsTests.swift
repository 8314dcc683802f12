import Foundation
import Testing
@testable import Lab

/// Random test tensor with entries in [-1, 1] (or a shifted range for ops with restricted domains).
func rnd(_ shape: [Int], seed: UInt64 = 1, low: Float = -1, high: Float = 1) -> Tensor {
    var r = RNG(seed: seed)
    return Tensor.rand(shape, low: low, high: high, rng: &r)
}

/// Kernel-against-loop comparison: the same bits, except that a NaN only has to stay a NaN (its sign bit is not part
/// of IEEE arithmetic's result: a release build's vectorised Swift loop gives −NaN where its scalar tail gives +NaN).
func sameBits(_ pair: (Float, Float)) -> Bool {
    pair.0.isNaN ? pair.1.isNaN : pair.0.bitPattern == pair.1.bitPattern
}

@Suite struct TensorOpsTests {
    @Test func fastMathAccuracy() {
        var worstExp: Float = 0, worstTanh: Float = 0, worstErf: Float = 0
        var x: Float = -80
        while x < 80 {
            worstExp = max(worstExp, abs(fastExp(x) - Foundation.exp(x)) / Foundation.exp(x))
            worstTanh = max(worstTanh, abs(fastTanh(x) - Foundation.tanh(x)))
            worstErf = max(worstErf, abs(fastErf(x) - Float(Foundation.erf(Double(x)))))
            x += 0.0137
        }
        #expect(worstExp < 3e-7)
        #expect(worstTanh < 2e-6)
        #expect(worstErf < 5e-7)
        #expect(fastExp(.nan).isNaN)
        // Underflow is exactly 0 (a masked softmax entry), never a subnormal.
        #expect(fastExp(-.infinity) == 0 && fastExp(-88) == 0 && fastExp(-87) > 0)
        #expect(abs(fastTanh(1e-5) - 1e-5) < 1e-11)
    }

    @Test func broadcastingArithmetic() {
        let a = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        let b = Tensor([10, 20, 30])
        #expect((a + b).data == [11, 22, 33, 14, 25, 36])
        let c = Tensor(shape: [2, 1], data: [1, 2])
        #expect((a * c).data == [1, 2, 3, 8, 10, 12])
        #expect((a - 1).data == [0, 1, 2, 3, 4, 5])
        #expect(broadcastShape([4, 1, 3], [2, 1]) == [4, 2, 3])
    }

    @Test func reductions() {
        let a = Tensor(shape: [2, 3], data: [1, 5, 3, 4, 2, 6])
        #expect(a.sum().item == 21)
        #expect(a.sum(axis: 0).data == [5, 7, 9])
        #expect(a.sum(axis: 1).data == [9, 12])
        #expect(a.mean(axis: 1, keepDims: true).shape == [2, 1])
        #expect(a.argmax(axis: 1) == [1, 2])
        #expect(a.max(axis: 0).data == [4, 5, 6])
        #expect(a.cumsum(axis: 1).data == [1, 6, 9, 4, 6, 12])
        let v = a.variance(axis: 1).data
        #expect(abs(v[0] - 8.0 / 3) < 1e-5)
        let sm = a.softmax(axis: 1)
        #expect(abs(sm.sum(axis: 1).data[0] - 1) < 1e-6)
        let ls = a.logSoftmax(axis: 1).data
        #expect(abs(ls[1] - (5 - Foundation.log(Foundation.exp(1) + Foundation.exp(5) + Foundation.exp(3)))) < 1e-5)
        #expect(abs(a.logsumexp(axis: 0).data[0] - Float(Foundation.log(Foundation.exp(1.0) + Foundation.exp(4.0)))) < 1e-5)
    }

    @Test func shapeOps() {
        let a = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        #expect(a.T.data == [1, 4, 2, 5, 3, 6])
        #expect(a.slice(axis: 1, 1..<3).data == [2, 3, 5, 6])
        #expect(Tensor.concat([a, a], axis: 0).shape == [4, 3])
        #expect(Tensor.concat([a, a], axis: 1).data == [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6])
        #expect(a.indexSelect(axis: 1, [2, 0]).data == [3, 1, 6, 4])
        #expect(a.gather(columns: [2, 0]).data == [3, 4])
        let p = rnd([2, 3, 4]).permuted([2, 0, 1])
        #expect(p.shape == [4, 2, 3])
        #expect(Tensor.stack([a, a], axis: 1).shape == [2, 2, 3])
        #expect(a.scatterAdd(rows: [1, 1], into: 3).data == [0, 0, 0, 5, 7, 9, 0, 0, 0])
    }

    @Test func matmulAgainstNaiveLoops() {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let (m, k, n) = (5, 7, 3)
            let a = rnd(ta ? [k, m] : [m, k], seed: 2), b = rnd(tb ? [n, k] : [k, n], seed: 3)
            let c = a.matmul(b, transposeA: ta, transposeB: tb)
            for i in 0..<m { for j in 0..<n {
                var s: Float = 0
                for p in 0..<k { s += (ta ? a[p, i] : a[i, p]) * (tb ? b[j, p] : b[p, j]) }
                #expect(abs(c[i, j] - s) < 1e-5)
            } }
        }
    }

    @Test func gradientsOfElementwiseAndReductions() {
        let checks: [(String, [Tensor], ([Tensor]) -> Tensor)] = [
            ("add-broadcast", [rnd([3, 4]), rnd([4], seed: 2)], { $0[0] + $0[1] }),
            ("sub-broadcast", [rnd([3, 4]), rnd([3, 1], seed: 2)], { $0[0] - $0[1] }),
            ("mul-broadcast", [rnd([2, 3, 4]), rnd([3, 1], seed: 2)], { $0[0] * $0[1] }),
            ("div", [rnd([3, 4]), rnd([3, 4], seed: 2, low: 1, high: 2)], { $0[0] / $0[1] }),
            ("scalar-ops", [rnd([5])], { (2 - $0[0] * 3 + 1) / 2 }),
            ("maximum", [rnd([6]), rnd([6], seed: 9)], { Tensor.maximum($0[0], $0[1]) }),
            ("exp", [rnd([5])], { $0[0].exp() }),
            ("log", [rnd([5], low: 0.5, high: 2)], { $0[0].log() }),
            ("log1p", [rnd([5], low: 0.1, high: 2)], { $0[0].log1p() }),
            ("sqrt", [rnd([5], low: 0.5, high: 2)], { $0[0].sqrt() }),
            ("abs", [rnd([5], low: 0.2, high: 1)], { ($0[0] - 0.6).abs() }),
            ("pow", [rnd([5], low: 0.5, high: 2)], { $0[0].pow(1.7) }),
            ("sin-cos", [rnd([5])], { $0[0].sin() + $0[0].cos() }),
            ("clamp", [rnd([7])], { $0[0].clamp(min: -0.5, max: 0.5) }),
            ("sum", [rnd([3, 4])], { $0[0].sum() }),
            ("sum-axis0", [rnd([3, 4, 2])], { $0[0].sum(axis: 1) }),
            ("mean-axes", [rnd([3, 4, 2])], { $0[0].mean(axes: [0, 2]) }),
            ("variance", [rnd([3, 5])], { $0[0].variance(axis: 1, unbiased: true) }),
            ("max", [rnd([3, 5])], { $0[0].max(axis: 1) }),
            ("min", [rnd([3, 5])], { $0[0].min(axis: 0) }),
            ("softmax", [rnd([3, 5])], { $0[0].softmax(axis: 1) }),
            ("softmax-mid", [rnd([2, 4, 3])], { $0[0].softmax(axis: 1) }),
            ("log-softmax", [rnd([3, 5])], { $0[0].logSoftmax(axis: -1) }),
            ("logsumexp", [rnd([3, 5])], { $0[0].logsumexp(axis: 0) }),
            ("cumsum", [rnd([3, 5])], { $0[0].cumsum(axis: 1) }),
            ("norm", [rnd([3, 5])], { $0[0].norm(axis: 1) }),
        ]
        for (name, inputs, f) in checks {
            let r = gradientCheck(inputs, f)
            #expect(r.maxError < 1e-2, "\(name): \(r)")
        }
    }

    @Test func gradientsOfShapeOpsAndMatmul() {
        let checks: [(String, [Tensor], ([Tensor]) -> Tensor)] = [
            ("reshape", [rnd([3, 4])], { $0[0].reshaped([2, 6]) * $0[0].reshaped([2, 6]) }),
            ("permute", [rnd([2, 3, 4])], { $0[0].permuted([1, 2, 0]) }),
            ("slice", [rnd([3, 6])], { $0[0].slice(axis: 1, 2..<5) }),
            ("concat", [rnd([2, 3]), rnd([2, 2], seed: 3)], { Tensor.concat([$0[0], $0[1]], axis: 1) }),
            ("indexSelect", [rnd([4, 3])], { $0[0].indexSelect(axis: 0, [3, 1, 1]) }),
            ("gather", [rnd([3, 4])], { $0[0].gather(columns: [0, 3, 3]) }),
            ("scatterAdd", [rnd([3, 2])], { $0[0].scatterAdd(rows: [2, 0, 2], into: 4) }),
            ("where", [rnd([5]), rnd([5], seed: 4)], { Tensor.where(Tensor([1, 0, 1, 0, 0]), $0[0], $0[1]) }),
            ("maskedFill", [rnd([2, 3])], { $0[0].maskedFill(Tensor([0, 1, 0]), -3) }),
            ("pad2d", [rnd([1, 2, 3])], { $0[0].padded2d(top: 1, bottom: 0, left: 2, right: 1) }),
            ("broadcast", [rnd([3, 1])], { $0[0].broadcast(to: [2, 3, 4]) }),
            ("matmul", [rnd([3, 4]), rnd([4, 5], seed: 2)], { $0[0].matmul($0[1]) }),
            ("matmul-tA", [rnd([4, 3]), rnd([4, 5], seed: 2)], { $0[0].matmul($0[1], transposeA: true) }),
            ("matmul-tB", [rnd([3, 4]), rnd([5, 4], seed: 2)], { $0[0].matmul($0[1], transposeB: true) }),
            ("matmul-tAtB", [rnd([4, 3]), rnd([5, 4], seed: 2)], { $0[0].matmul($0[1], transposeA: true, transposeB: true) }),
            ("bmm", [rnd([2, 3, 4]), rnd([2, 4, 5], seed: 2)], { $0[0].matmul($0[1]) }),
            ("bmm-tB", [rnd([2, 3, 4]), rnd([2, 5, 4], seed: 2)], { $0[0].matmul($0[1], transposeB: true) }),
            ("bmm-tA", [rnd([2, 4, 3]), rnd([2, 4, 5], seed: 2)], { $0[0].matmul($0[1], transposeA: true) }),
            ("shared-B-3d", [rnd([2, 3, 4]), rnd([5, 4], seed: 2)], { $0[0].matmul($0[1], transposeB: true) }),
            ("shared-B-tA", [rnd([2, 4, 3]), rnd([4, 5], seed: 2)], { $0[0].matmul($0[1], transposeA: true) }),
        ]
        for (name, inputs, f) in checks {
            let r = gradientCheck(inputs, f)
            #expect(r.maxError < 1e-2, "\(name): \(r)")
        }
    }

    @Test func gradientsOfActivations() {
        let checks: [(String, ([Tensor]) -> Tensor)] = [
            ("relu", { $0[0].relu() }), ("leakyRelu", { $0[0].leakyRelu(slope: 0.1) }),
            ("elu", { $0[0].elu() }), ("sigmoid", { $0[0].sigmoid() }), ("tanh", { $0[0].tanh() }),
            ("silu", { $0[0].silu() }), ("softplus", { $0[0].softplus() }),
            ("gelu", { $0[0].gelu() }), ("gelu-tanh", { $0[0].gelu(approximate: true) }),
            ("sine", { $0[0].sine(omega: 3) }),
        ]
        for (name, f) in checks {
            // Keep away from the kinks of relu-like functions, where finite differences are undefined.
            let x = rnd([12], seed: 5).map { $0 > 0 ? $0 + 0.05 : $0 - 0.05 }
            let r = gradientCheck([x], f)
            #expect(r.maxError < 1e-2, "\(name): \(r)")
        }
        // The tanh-form GELU kernel against its formula composed from primitive ops (values and gradient).
        let x = Tensor(shape: [9], data: [-4, -2, -1, -0.3, 0, 0.3, 1, 2, 4], requiresGrad: true)
        let fused = x.gelu(approximate: true)
        fused.sum().backward()
        let xc = Tensor(shape: [9], data: x.data, requiresGrad: true)
        let composed = xc * 0.5 * (((xc + xc * xc * xc * 0.044715) * 0.797_884_560_8).tanh() + 1)
        composed.sum().backward()
        #expect(zip(fused.data, composed.data).allSatisfy { abs($0 - $1) < 1e-5 }, "gelu-tanh values")
        #expect(zip(x.grad!.data, xc.grad!.data).allSatisfy { abs($0 - $1) < 1e-5 }, "gelu-tanh gradient")
        // hard tanh's kinks are at ±1: inputs chosen at least 0.1 away from them.
        let h = gradientCheck([Tensor([-1.8, -0.6, 0.4, 1.6, 0.9, -1.2])]) { $0[0].hardTanh() }
        #expect(h.maxError < 1e-2, "hardTanh: \(h)")
    }

    @Test func tapeIsFreedAndNoGradRecordsNothing() {
        let w = rnd([3], seed: 1)
        w.requiresGrad = true
        let y = noGrad { (w * 2).sum() }
        #expect(!y.requiresGrad)
        let z = (w * w).sum()
        z.backward()
        #expect(w.grad!.data.enumerated().allSatisfy { abs($0.element - 2 * w.data[$0.offset]) < 1e-6 })
        #expect(z.parents.isEmpty)
        // Deep chains do not overflow the stack.
        var h = w
        for _ in 0..<20_000 { h = h * 1.0 }
        w.zeroGrad()
        h.sum().backward()
        #expect(w.grad!.data == [1, 1, 1])
    }
}

@Suite struct GeluKernelTests {
    /// The AVX2 GELU kernel and the Swift loop give the same bits, values and slopes, over a sweep of inputs
    /// (both tails, zero, subnormal, ±∞, NaN) and lengths that leave a partial vector.
    @Test func avx2KernelMatchesSwiftLoopBitForBit() {
        guard hasAVX2Kernels else { return }
        var x: [Float] = [0, -0, 1e-40, -1e-40, .infinity, -.infinity, .nan, 87.3, -87.3, 9, -9, 30, -30]
        var v: Float = -12
        while v < 12 { x.append(v); v += 0.000_731 }
        var rng = RNG(seed: 3)
        for _ in 0..<10_000 { x.append(Float(rng.normal()) * 3) }
        for n in [x.count, 13, 7, 1] {
            var y1 = [Float](repeating: 0, count: n), y2 = y1, s1 = y1, s2 = y1
            x.withUnsafeBufferPointer { xp in
                geluExact(xp.baseAddress!, &y1, slope: &s1, count: n, useAVX2: true)
                geluExact(xp.baseAddress!, &y2, slope: &s2, count: n, useAVX2: false)
            }
            #expect(zip(y1, y2).allSatisfy { $0.bitPattern == $1.bitPattern }, "values, n \(n)")
            #expect(zip(s1, s2).allSatisfy { $0.bitPattern == $1.bitPattern }, "slopes, n \(n)")
        }
    }

    /// The AVX2 SiLU kernels (forward, SwiGLU with an up operand, backward) and their Swift loops give the same
    /// bits over the same sweep, in place as well (`sameBits`: a NaN only has to stay a NaN).
    @Test func siluKernelsMatchSwiftLoopsBitForBit() {
        guard hasAVX2Kernels else { return }
        var x: [Float] = [0, -0, 1e-40, -1e-40, .infinity, -.infinity, .nan, 87.3, -87.3, 88.7, -88.7, 90, -90, 9, -9]
        var v: Float = -100
        while v < 100 { x.append(v); v += 0.003_17 }
        var rng = RNG(seed: 5)
        let up = (0..<x.count).map { _ in Float(rng.normal()) * 2 }
        for n in [x.count, 13, 7, 1] {
            var a = [Float](repeating: 0, count: n), b = a, c = a, d = a, e = a, f = a
            x.withUnsafeBufferPointer { xp in
                up.withUnsafeBufferPointer { upp in
                    siluForward(xp.baseAddress!, up: nil, &a, count: n, useAVX2: true)
                    siluForward(xp.baseAddress!, up: nil, &b, count: n, useAVX2: false)
                    siluForward(xp.baseAddress!, up: upp.baseAddress!, &c, count: n, useAVX2: true)
                    siluForward(xp.baseAddress!, up: upp.baseAddress!, &d, count: n, useAVX2: false)
                    siluBackward(xp.baseAddress!, upp.baseAddress!, &e, count: n, useAVX2: true)
                    siluBackward(xp.baseAddress!, upp.baseAddress!, &f, count: n, useAVX2: false)
                }
            }
            #expect(zip(a, b).allSatisfy(sameBits), "SiLU, n \(n)")
            #expect(zip(c, d).allSatisfy(sameBits), "SwiGLU, n \(n)")
            #expect(zip(e, f).allSatisfy(sameBits), "backward, n \(n)")
            var inPlace = Array(x.prefix(n))
            inPlace.withUnsafeMutableBufferPointer { swiGLU($0.baseAddress!, up: nil, $0.baseAddress!, count: n) }
            #expect(zip(inPlace, b).allSatisfy(sameBits), "in place, n \(n)")
            // The loops are the formulas: y = x·σ(x)·u, dx = g·(σ·(1 + x·(1 − σ))), σ = 1/(1 + fastExp(−x)).
            for i in stride(from: 0, to: n, by: 97) where !x[i].isNaN {
                let s = 1 / (1 + fastExp(-x[i]))
                #expect(d[i].bitPattern == (x[i] * s * up[i]).bitPattern, "SwiGLU formula at \(x[i])")
                #expect(f[i].bitPattern == (up[i] * (s * (1 + x[i] * (1 - s)))).bitPattern, "backward formula at \(x[i])")
            }
        }
    }

    /// The fused op (slope kept from the forward) equals the per-element formulas of the unfused op it
    /// replaced, bit for bit: y = ½x(1 + erf(x/√2)), dx = g·(Φ(x) + x·φ(x)).
    @Test func geluEqualsItsFormulaBitForBit() {
        let x = rnd([3, 1001], seed: 9, low: -6, high: 6)
        x.requiresGrad = true
        let g = rnd([3, 1001], seed: 10)
        let y = x.gelu()
        (y * g).sum().backward()
        for i in 0..<x.count {
            let v = x.data[i]
            let value: Float = 0.5 * v * (1 + fastErf(v * 0.707_106_781_2))
            let cdf: Float = 0.5 * (1 + fastErf(v * 0.707_106_781_2))
            let grad: Float = g.data[i] * (cdf + v * 0.398_942_280_4 * fastExp(-0.5 * v * v))
            #expect(y.data[i].bitPattern == value.bitPattern, "value at \(i)")
            #expect(x.grad!.data[i].bitPattern == grad.bitPattern, "gradient at \(i)")
        }
    }
}

@Suite struct GEMMGradientBufferTests {
    /// Linear and matmul write a gradient that does not exist yet with one beta-0 GEMM into a new buffer, and add
    /// to an existing one with beta 1: the first backward (no gradient yet) gives the bits of a backward into
    /// zeroed gradients, for the shapes of the benchmarks' layers and odd ones (split and unsplit GEMMs).
    @Test func betaZeroIntoNewBufferEqualsBetaOneOnZeros() {
        for (rows, nIn, nOut) in [(2048, 128, 512), (2048, 512, 128), (7, 5, 3), (130, 33, 65), (64, 12544, 10)] {
            let x = rnd([rows, nIn], seed: 41), w = rnd([nOut, nIn], seed: 42), b = rnd([nOut], seed: 43)
            let g = rnd([rows, nOut], seed: 44)
            var grads: [[[Float]]] = []
            for preZeroed in [false, true] {
                let inputs = [x.copy(), w.copy(), b.copy()]
                inputs.forEach { $0.requiresGrad = true }
                if preZeroed { inputs.forEach { _ = $0.ensureGrad() } }
                (inputs[0].linear(weight: inputs[1], bias: inputs[2]) * g).sum().backward()
                let m = inputs[0].matmul(inputs[1], transposeB: true)
                (m * g).sum().backward()
                grads.append(inputs.map { $0.grad!.data })
            }
            for (name, (a, r)) in zip(["dx", "dW", "db"], zip(grads[0], grads[1])) {
                #expect(a.map(\.bitPattern) == r.map(\.bitPattern), "\(rows)x\(nIn)->\(nOut): \(name)")
            }
        }
    }
}

/// The training-step kernels that run several rows or lanes at once give the bits of the one-at-a-time loops
/// they replaced (every committed paper result depends on it).
@Suite struct TrainingKernelTests {
    /// The AVX2 attention softmax row and the RowKernels path give the same bits, for widths that leave partial
    /// vectors, rows with −∞ entries (padding) and an all-masked row.
    @Test func softmaxRowAVX2MatchesSwiftBitForBit() {
        guard hasAVX2Kernels else { return }
        var rng = RNG(seed: 5)
        for width in [1, 3, 8, 15, 16, 17, 31, 64, 100] {
            for visible in Set([1, width / 2 + 1, width]) {
                let row = (0..<width).map { _ in Float(rng.normal()) * 4 }
                var padding = (0..<width).map { _ in rng.uniform() < 0.2 }
                for masked in [false, true] {
                    if masked { padding = [Bool](repeating: true, count: width) }
                    var a = row, b = row
                    padding.withUnsafeBufferPointer { pad in
                        attentionSoftmaxRow(&a, visible: visible, width: width, padding: pad.baseAddress!, useAVX2: true)
                        attentionSoftmaxRow(&b, visible: visible, width: width, padding: pad.baseAddress!, useAVX2: false)
                    }
                    #expect(zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }, "width \(width), visible \(visible), masked \(masked)")
                    var c = row, d = row
                    attentionSoftmaxRow(&c, visible: visible, width: width, padding: nil, useAVX2: true)
                    attentionSoftmaxRow(&d, visible: visible, width: width, padding: nil, useAVX2: false)
                    #expect(zip(c, d).allSatisfy { $0.bitPattern == $1.bitPattern }, "width \(width), visible \(visible), no padding")
                }
            }
        }
    }

    /// Adam's and AdamW's AVX2 update and the Swift loop give the same parameters, bit for bit, over several
    /// steps (sizes that leave a partial vector).
    @Test func adamAVX2MatchesSwiftBitForBit() {
        guard hasAVX2Kernels else { return }
        for decoupled in [false, true] {
            let (a, b) = (rnd([37, 5], seed: 11), rnd([37, 5], seed: 11))
            a.requiresGrad = true; b.requiresGrad = true
            let fast = Adam(parameters: [a], learningRate: 1e-2, weightDecay: 0.1, decoupledWeightDecay: decoupled)
            let slow = Adam(parameters: [b], learningRate: 1e-2, weightDecay: 0.1, decoupledWeightDecay: decoupled)
            slow.useAVX2 = false
            for step in 0..<4 {
                let g = rnd([37, 5], seed: 20 + UInt64(step))
                a.grad = g.copy(); b.grad = g.copy()
                fast.step(); slow.step()
                #expect(zip(a.data, b.data).allSatisfy { $0.bitPattern == $1.bitPattern }, "step \(step), decoupled \(decoupled)")
            }
        }
    }

    /// LayerNorm runs four rows at a time (one per lane); each row's output and input gradient equal those of
    /// the row normalised on its own (the one-row loop), bit for bit.
    @Test func layerNormRowsOfFourMatchOneRowBitForBit() {
        let (rows, n) = (7, 37)
        let x = rnd([rows, n], seed: 31, low: -3, high: 2), g = rnd([rows, n], seed: 32)
        let w = rnd([n], seed: 33), b = rnd([n], seed: 34)
        w.requiresGrad = true; b.requiresGrad = true
        x.requiresGrad = true
        let y = x.layerNormalized(weight: w, bias: b, epsilon: 1e-5)
        (y * g).sum().backward()
        for r in 0..<rows {
            let xr = Tensor(shape: [1, n], data: Array(x.data[r * n..<(r + 1) * n]), requiresGrad: true)
            let gr = Tensor(shape: [1, n], data: Array(g.data[r * n..<(r + 1) * n]))
            let yr = xr.layerNormalized(weight: w, bias: b, epsilon: 1e-5)
            (yr * gr).sum().backward()
            #expect(zip(yr.data, y.data[r * n..<(r + 1) * n]).allSatisfy { $0.bitPattern == $1.bitPattern }, "values, row \(r)")
            #expect(zip(xr.grad!.data, x.grad!.data[r * n..<(r + 1) * n]).allSatisfy { $0.bitPattern == $1.bitPattern },
                    "input gradient, row \(r)")
        }
    }

    /// The linear layer's bias gradient (16 columns in registers) equals the column sums over rows in order,
    /// added to the gradient already there; square's gradient is g·(2x).
    @Test func biasGradientAndSquareMatchPlainLoopsBitForBit() {
        var rng = RNG(seed: 40)
        let layer = Linear(inputSize: 3, outputSize: 37, rng: &rng)
        let x = rnd([300, 3], seed: 41), g = rnd([300, 37], seed: 42)
        for _ in 0..<2 { (layer(x) * g).sum().backward() }  // twice: the second adds to the first
        var expected = [Float](repeating: 0, count: 37)
        for _ in 0..<2 { for r in 0..<300 { for j in 0..<37 { expected[j] += g.data[r * 37 + j] } } }
        #expect(zip(layer.bias!.grad!.data, expected).allSatisfy { $0.bitPattern == $1.bitPattern })

        let s = rnd([5, 301], seed: 43)
        s.requiresGrad = true
        let y = s.square()
        let gs = Array(g.data[0..<1505])
        (y * Tensor(shape: [5, 301], data: gs)).sum().backward()
        #expect(zip(y.data, s.data).allSatisfy { $0.bitPattern == ($1 * $1).bitPattern })
        #expect((0..<1505).allSatisfy { s.grad!.data[$0].bitPattern == (gs[$0] * (2 * s.data[$0])).bitPattern })
    }
}
