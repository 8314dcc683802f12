import Foundation
import Testing
@testable import Lab

// Naive reference loops, written straight from the definitions in Conv.swift / Pool.swift.

/// y[b, f, oy, ox] = bias[f] + Σ_{c,i,j} w[f, c, i, j] · x[b, c, oy·sH − pH + i, ox·sW − pW + j]
private func referenceConv2d(_ x: Tensor, _ w: Tensor, _ bias: Tensor?, stride: (Int, Int), padding: (Int, Int)) -> Tensor {
    let (bn, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (f, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
    let ho = (h + 2 * padding.0 - kh) / stride.0 + 1, wo = (wd + 2 * padding.1 - kw) / stride.1 + 1
    let y = Tensor.zeros([bn, f, ho, wo])
    for b in 0..<bn { for o in 0..<f { for oy in 0..<ho { for ox in 0..<wo {
        var acc = Double(bias?.data[o] ?? 0)
        for ch in 0..<c { for i in 0..<kh { for j in 0..<kw {
            let iy = oy * stride.0 - padding.0 + i, ix = ox * stride.1 - padding.1 + j
            if iy >= 0 && iy < h && ix >= 0 && ix < wd { acc += Double(w[o, ch, i, j]) * Double(x[b, ch, iy, ix]) }
        } } }
        y[b, o, oy, ox] = Float(acc)
    } } } }
    return y
}

/// y[b, f, iy·sH − pH + i, ix·sW − pW + j] += w[c, f, i, j] · x[b, c, iy, ix] (+ bias[f] everywhere)
private func referenceConvTranspose2d(_ x: Tensor, _ w: Tensor, _ bias: Tensor?, stride: (Int, Int),
                                      padding: (Int, Int), outputPadding: (Int, Int)) -> Tensor {
    let (bn, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (f, kh, kw) = (w.shape[1], w.shape[2], w.shape[3])
    let ho = (h - 1) * stride.0 - 2 * padding.0 + kh + outputPadding.0
    let wo = (wd - 1) * stride.1 - 2 * padding.1 + kw + outputPadding.1
    let y = Tensor.zeros([bn, f, ho, wo])
    for b in 0..<bn { for o in 0..<f { for oy in 0..<ho { for ox in 0..<wo { y[b, o, oy, ox] = bias?.data[o] ?? 0 } } } }
    for b in 0..<bn { for ch in 0..<c { for iy in 0..<h { for ix in 0..<wd { for o in 0..<f { for i in 0..<kh { for j in 0..<kw {
        let oy = iy * stride.0 - padding.0 + i, ox = ix * stride.1 - padding.1 + j
        if oy >= 0 && oy < ho && ox >= 0 && ox < wo { y[b, o, oy, ox] += w[ch, o, i, j] * x[b, ch, iy, ix] }
    } } } } } } }
    return y
}

private func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "shapes \(a.shape) vs \(b.shape)")
    return zip(a.data, b.data).map { Swift.abs($0 - $1) }.max() ?? 0
}

private func dot(_ a: Tensor, _ b: Tensor) -> Double { zip(a.data, b.data).reduce(0) { $0 + Double($1.0) * Double($1.1) } }

/// Distinct values 0.1 apart in a seeded random order, so that max/sort picks stay put under ±1e-2 probes.
private func distinct(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = RNG(seed: seed)
    let n = shape.reduce(1, *)
    let order = rng.permutation(n)
    return Tensor(shape: shape, data: order.map { Float($0) * 0.1 - Float(n) * 0.05 })
}

@Suite struct ConvTests {
    /// (B, C, H, W, F, kH, kW, stride, padding): square and non-square kernels, strides and paddings,
    /// and one shape large enough to run im2col/col2im on several threads.
    static let convCases: [(Int, Int, Int, Int, Int, Int, Int, (Int, Int), (Int, Int))] = [
        (2, 3, 5, 6, 4, 3, 3, (1, 1), (1, 1)),
        (2, 2, 7, 5, 3, 3, 2, (2, 1), (1, 0)),
        (1, 3, 6, 6, 2, 1, 1, (2, 2), (0, 0)),
        (3, 2, 4, 9, 5, 2, 4, (1, 3), (0, 2)),
        (8, 4, 16, 16, 6, 3, 3, (1, 1), (1, 1)),
        (8, 8, 16, 16, 16, 3, 3, (1, 1), (1, 1)), // ≥ 2²⁰ multiply-adds: the batch splits into per-thread runs
        (2, 2, 2, 1, 3, 5, 7, (1, 1), (2, 3)),   // padding so wide that some kernel columns never touch the input
    ]

    @Test func conv2dMatchesNaiveLoops() {
        for (n, (b, c, h, w, f, kh, kw, s, p)) in Self.convCases.enumerated() {
            let x = rnd([b, c, h, w], seed: UInt64(10 + n)), wt = rnd([f, c, kh, kw], seed: UInt64(20 + n))
            let bias = rnd([f], seed: UInt64(30 + n))
            let y = x.conv2d(wt, bias: bias, stride: s, padding: p)
            let ref = referenceConv2d(x, wt, bias, stride: s, padding: p)
            #expect(y.shape == ref.shape)
            #expect(maxAbsDifference(y, ref) < 1e-4, "case \(n)")
            #expect(maxAbsDifference(x.conv2d(wt, stride: s, padding: p), referenceConv2d(x, wt, nil, stride: s, padding: p)) < 1e-4)
        }
        let x = rnd([1, 1, 3, 3], seed: 1), wt = rnd([1, 1, 3, 3], seed: 2)
        #expect(x.conv2d(wt, stride: 1, padding: 1).shape == [1, 1, 3, 3])
        // An empty batch gives an empty output, and its backward still reaches the weight (zero gradient).
        let empty = Tensor.zeros([0, 1, 3, 3])
        wt.requiresGrad = true
        let y = empty.conv2d(wt, bias: Tensor.zeros([1]), stride: 1, padding: 1)
        #expect(y.shape == [0, 1, 3, 3])
        y.sum().backward()
        #expect(wt.grad?.data.allSatisfy { $0 == 0 } ?? true)
    }

    /// The backward of a batch large enough to split into per-thread sample runs (each run its own weight
    /// gradient partial), against naive loops: dx = convTranspose(g) and dW[f, c, i, j] = Σ g·x.
    @Test func conv2dGradientsMatchNaiveLoopsOnSplitBatches() {
        for (b, s, p, algorithm) in [(8, (1, 1), (1, 1), ConvAlgorithm.im2col), (8, (1, 1), (1, 1), .winograd), (5, (2, 1), (0, 1), .automatic)] {
            let (c, h, w, f, k) = (8, 16, 16, 16, 3)
            let x = rnd([b, c, h, w], seed: 101), wt = rnd([f, c, k, k], seed: 102)
            x.requiresGrad = true; wt.requiresGrad = true
            let y = x.conv2d(wt, bias: nil, stride: s, padding: p, algorithm: algorithm)
            let g = rnd(y.shape, seed: 103)
            (y * g).sum().backward()
            let (ho, wo) = (y.shape[2], y.shape[3])
            let dx = referenceConvTranspose2d(g, wt, nil, stride: s, padding: p,
                                              outputPadding: (h - ((ho - 1) * s.0 - 2 * p.0 + k), w - ((wo - 1) * s.1 - 2 * p.1 + k)))
            #expect(maxAbsDifference(x.grad!, dx) < 1e-3, "batch \(b) \(algorithm)")
            var worst = 0.0
            for o in 0..<f { for ch in 0..<c { for i in 0..<k { for j in 0..<k {
                var acc = 0.0
                for bi in 0..<b { for oy in 0..<ho { for ox in 0..<wo {
                    let iy = oy * s.0 - p.0 + i, ix = ox * s.1 - p.1 + j
                    if iy >= 0 && iy < h && ix >= 0 && ix < w { acc += Double(g[bi, o, oy, ox]) * Double(x[bi, ch, iy, ix]) }
                } } }
                worst = Swift.max(worst, Swift.abs(acc - Double(wt.grad![o, ch, i, j])))
            } } } }
            #expect(worst < 1e-3, "batch \(b) \(algorithm): dW off by \(worst)")
        }
    }

    @Test func convTransposeMatchesNaiveLoopsAndIsTheAdjointOfConv() {
        // (B, C, H, W, F, kH, kW, stride, padding, outputPadding) for convTranspose2d: [B, C, H, W] → [B, F, Ho, Wo].
        let cases: [(Int, Int, Int, Int, Int, Int, Int, (Int, Int), (Int, Int), (Int, Int))] = [
            (2, 3, 4, 5, 2, 3, 3, (1, 1), (1, 1), (0, 0)),
            (2, 2, 3, 4, 3, 3, 3, (2, 2), (1, 1), (1, 1)),
            (1, 3, 4, 3, 2, 2, 3, (2, 1), (0, 1), (1, 0)),
            (4, 5, 8, 8, 3, 4, 4, (2, 2), (1, 1), (0, 0)),
        ]
        for (n, (b, c, h, w, f, kh, kw, s, p, op)) in cases.enumerated() {
            let x = rnd([b, c, h, w], seed: UInt64(40 + n)), wt = rnd([c, f, kh, kw], seed: UInt64(50 + n))
            let bias = rnd([f], seed: UInt64(60 + n))
            let y = x.convTranspose2d(wt, bias: bias, stride: s, padding: p, outputPadding: op)
            let ref = referenceConvTranspose2d(x, wt, bias, stride: s, padding: p, outputPadding: op)
            #expect(y.shape == ref.shape)
            #expect(maxAbsDifference(y, ref) < 1e-4, "case \(n)")
            // <conv2d(z), x> = <z, convT(x)> for z of convT's output shape, same weight, stride and padding.
            let z = rnd(ref.shape, seed: UInt64(70 + n))
            let left = dot(z.conv2d(wt, stride: s, padding: p), x)
            let right = dot(z, x.convTranspose2d(wt, stride: s, padding: p, outputPadding: op))
            #expect(Swift.abs(left - right) < 1e-4 * Swift.max(1, Swift.abs(left)), "case \(n): \(left) vs \(right)")
        }
    }

    @Test func conv1dMatchesNaiveLoops() {
        // HyperSound's encoder convolutions: k 7 stride 1 "same" (padding 3) and k 8 stride 4 padding 2.
        for (n, (l, k, s, p)) in [(20, 7, 1, 3), (20, 8, 4, 2), (20, 3, 2, 0), (1, 7, 1, 3)].enumerated() {
            let (b, c, f) = (2, 3, 4)
            let x = rnd([b, c, l], seed: UInt64(80 + n)), wt = rnd([f, c, k], seed: UInt64(90 + n)), bias = rnd([f], seed: 99)
            let y = x.conv1d(wt, bias: bias, stride: s, padding: p)
            let lo = (l + 2 * p - k) / s + 1
            #expect(y.shape == [b, f, lo])
            var worst: Float = 0
            for bi in 0..<b { for o in 0..<f { for t in 0..<lo {
                var acc = bias.data[o]
                for ch in 0..<c { for j in 0..<k {
                    let i = t * s - p + j
                    if i >= 0 && i < l { acc += wt[o, ch, j] * x[bi, ch, i] }
                } }
                worst = Swift.max(worst, Swift.abs(acc - y[bi, o, t]))
            } } }
            #expect(worst < 1e-4, "case \(n)")
        }
    }

    /// Max pooling routes each window's gradient to its first strict maximum in row-major order, also on the
    /// 2×2 stride-2 fast path (eight windows at a time plus a tail) and with many ties.
    @Test func maxPoolRoutesToTheFirstMaximum() {
        let (b, c, h, w) = (2, 3, 9, 38)
        var rng = RNG(seed: 7)
        let x = Tensor(shape: [b, c, h, w], data: (0..<(b * c * h * w)).map { _ in Float(rng.int(below: 3)) })
        for (k, s) in [((2, 2), (2, 2)), ((3, 2), (2, 1))] {
            x.grad = nil
            x.requiresGrad = true
            let y = x.maxPool2d(kernel: k, stride: s)
            y.sum().backward()
            let (ho, wo) = ((h - k.0) / s.0 + 1, (w - k.1) / s.1 + 1)
            var expected = [Float](repeating: 0, count: x.count)
            for bi in 0..<b { for ch in 0..<c { for oy in 0..<ho { for ox in 0..<wo {
                var (best, at) = (-Float.infinity, 0)
                for i in 0..<k.0 { for j in 0..<k.1 {
                    let flat = ((bi * c + ch) * h + oy * s.0 + i) * w + ox * s.1 + j
                    if x.data[flat] > best { (best, at) = (x.data[flat], flat) }
                } }
                #expect(y[bi, ch, oy, ox] == best)
                expected[at] += 1
            } } } }
            #expect(x.grad!.data == expected, "kernel \(k) stride \(s)")
        }
    }

    @Test func poolingAndUpsampleMatchNaiveLoops() {
        let x = rnd([2, 3, 7, 8], seed: 5)
        // max pool 2×2 stride 2 (floor: 7 → 3) and a non-square overlapping window 3×2 stride (2, 1).
        for (k, s) in [((2, 2), (2, 2)), ((3, 2), (2, 1))] {
            let y = x.maxPool2d(kernel: k, stride: s), a = x.avgPool2d(kernel: k, stride: s)
            let (ho, wo) = ((7 - k.0) / s.0 + 1, (8 - k.1) / s.1 + 1)
            #expect(y.shape == [2, 3, ho, wo] && a.shape == y.shape)
            for b in 0..<2 { for c in 0..<3 { for oy in 0..<ho { for ox in 0..<wo {
                var m = -Float.infinity, sum: Float = 0
                for i in 0..<k.0 { for j in 0..<k.1 { let v = x[b, c, oy * s.0 + i, ox * s.1 + j]; m = Swift.max(m, v); sum += v } }
                #expect(y[b, c, oy, ox] == m)
                #expect(Swift.abs(a[b, c, oy, ox] - sum / Float(k.0 * k.1)) < 1e-6)
            } } } }
        }
        #expect(x.maxPool2d(kernel: 2).shape == [2, 3, 3, 4])
        let g = x.globalAvgPool()
        #expect(g.shape == [2, 3])
        for b in 0..<2 { for c in 0..<3 {
            var s: Float = 0
            for i in 0..<7 { for j in 0..<8 { s += x[b, c, i, j] } }
            #expect(Swift.abs(g[b, c] - s / 56) < 1e-6)
        } }
        let u = x.upsampleNearest(factors: (2, 3))
        #expect(u.shape == [2, 3, 14, 24])
        for b in 0..<2 { for c in 0..<3 { for i in 0..<14 { for j in 0..<24 { #expect(u[b, c, i, j] == x[b, c, i / 2, j / 3]) } } } }
    }

    @Test func maxPoolRoutesTheGradientToTheFirstMaximum() {
        // A window of equal values: the gradient goes to its first element only.
        let x = Tensor(shape: [1, 1, 2, 4], data: [1, 1, 0, 5, 1, 1, 5, 2])
        x.requiresGrad = true
        let y = x.maxPool2d(kernel: 2)
        #expect(y.data == [1, 5])
        y.sum().backward()
        #expect(x.grad!.data == [1, 0, 0, 1, 0, 0, 0, 0])
    }

    @Test func sortArgsortTopkMatchSwiftSort() {
        var rng = RNG(seed: 3)
        // Values from a small set, so rows have many ties; 4 rows of 9.
        let x = Tensor(shape: [2, 2, 9], data: (0..<36).map { _ in Float(rng.int(below: 5)) - 2 })
        for descending in [false, true] {
            let (values, indices) = x.sorted(descending: descending)
            #expect(values.shape == x.shape)
            #expect(x.argsort(descending: descending) == indices)
            for r in 0..<4 {
                let row = Array(x.data[(r * 9)..<(r * 9 + 9)])
                let expected = row.enumerated().sorted { a, b in
                    a.element != b.element ? (descending ? a.element > b.element : a.element < b.element) : a.offset < b.offset
                }
                #expect(Array(indices[(r * 9)..<(r * 9 + 9)]) == expected.map(\.offset))
                #expect(Array(values.data[(r * 9)..<(r * 9 + 9)]) == expected.map(\.element))
            }
        }
        for largest in [true, false] {
            let (values, indices) = x.topk(4, largest: largest)
            #expect(values.shape == [2, 2, 4])
            let full = x.sorted(descending: largest)
            for r in 0..<4 {
                #expect(Array(indices[(r * 4)..<(r * 4 + 4)]) == Array(full.indices[(r * 9)..<(r * 9 + 4)]))
                #expect(Array(values.data[(r * 4)..<(r * 4 + 4)]) == Array(full.values.data[(r * 9)..<(r * 9 + 4)]))
            }
        }
        let withNaN = Tensor([2, .nan, -1, 3])
        #expect(withNaN.argsort() == [2, 0, 3, 1])
        #expect(withNaN.argsort(descending: true) == [1, 3, 0, 2])
    }

    @Test func gradientsOfConvolutions() {
        let checks: [(String, [Tensor], ([Tensor]) -> Tensor)] = [
            ("conv2d 3×2 stride (2,1) padding (1,1)", [rnd([2, 2, 5, 4], seed: 1), rnd([3, 2, 3, 2], seed: 2), rnd([3], seed: 3)],
             { $0[0].conv2d($0[1], bias: $0[2], stride: (2, 1), padding: (1, 1)) }),
            ("conv2d 3×3 stride 1 padding 1, no bias", [rnd([1, 3, 4, 4], seed: 4), rnd([2, 3, 3, 3], seed: 5)],
             { $0[0].conv2d($0[1], stride: 1, padding: 1) }),
            ("convTranspose2d stride 2 padding 1 output padding 1", [rnd([2, 2, 3, 3], seed: 6), rnd([2, 3, 3, 3], seed: 7), rnd([3], seed: 8)],
             { $0[0].convTranspose2d($0[1], bias: $0[2], stride: 2, padding: 1, outputPadding: 1) }),
            ("convTranspose2d 2×3 stride (1,2)", [rnd([1, 2, 3, 2], seed: 9), rnd([2, 2, 2, 3], seed: 10)],
             { $0[0].convTranspose2d($0[1], stride: (1, 2), padding: (0, 1)) }),
            ("conv1d k 8 stride 4 padding 2", [rnd([2, 2, 12], seed: 11), rnd([3, 2, 8], seed: 12), rnd([3], seed: 13)],
             { $0[0].conv1d($0[1], bias: $0[2], stride: 4, padding: 2) }),
        ]
        for (name, inputs, f) in checks {
            let r = gradientCheck(inputs, maxElements: 256, f)
            #expect(r.maxError < 1e-2, "\(name): \(r)")
        }
    }

    @Test func gradientsOfPoolingUpsampleAndSort() {
        let checks: [(String, Tensor, (Tensor) -> Tensor)] = [
            ("maxPool2d 2×2", distinct([2, 2, 4, 5], seed: 1), { $0.maxPool2d(kernel: 2) }),
            ("maxPool2d 3×2 stride (1,2)", distinct([1, 2, 5, 4], seed: 2), { $0.maxPool2d(kernel: (3, 2), stride: (1, 2)) }),
            ("avgPool2d 2×3 stride (2,1)", rnd([2, 2, 5, 5], seed: 3), { $0.avgPool2d(kernel: (2, 3), stride: (2, 1)) }),
            ("globalAvgPool", rnd([2, 3, 3, 4], seed: 4), { $0.globalAvgPool() }),
            ("upsampleNearest (2,3)", rnd([2, 2, 3, 2], seed: 5), { $0.upsampleNearest(factors: (2, 3)) }),
            ("sorted descending", distinct([3, 7], seed: 6), { $0.sorted(descending: true).values }),
            ("topk 3 smallest", distinct([2, 2, 6], seed: 7), { $0.topk(3, largest: false).values }),
        ]
        for (name, x, f) in checks {
            let r = gradientCheck([x], maxElements: 256) { f($0[0]) }
            #expect(r.maxError < 1e-2, "\(name): \(r)")
        }
    }

    /// MixedPool2d: y = α·max + (1 − α)·avg, by hand on one 2 × 2 window, and its gradients (x and α).
    @Test func mixedPoolMixesMaxAndAverage() {
        var rng = RNG(seed: 3)
        let pool = MixedPool2d(kernel: 2, rng: &rng)
        #expect(pool.alpha.shape == [1] && (0..<1).contains(pool.alpha.data[0]) && pool.parameters.count == 1)
        pool.alpha.data = [0.25]
        // Window (1, 2, 3, 6): max 6, mean 3 → 0.25·6 + 0.75·3 = 3.75; the odd row/column is dropped (floor).
        let x = Tensor(shape: [1, 1, 3, 3], data: [1, 2, 9, 3, 6, 9, 9, 9, 9])
        #expect(pool(x).shape == [1, 1, 1, 1] && pool(x).data == [3.75])
        let r = gradientCheck([distinct([2, 3, 4, 5], seed: 9), Tensor(shape: [1], data: [0.3])], maxElements: 256) {
            $0[1] * $0[0].maxPool2d(kernel: 2) + (1 - $0[1]) * $0[0].avgPool2d(kernel: 2)
        }
        #expect(r.maxError < 1e-2, "mixed pool: \(r)")
        // The layer itself records the same graph: dy/dα = max − avg.
        pool.alpha.grad = nil
        pool(x).sum().backward()
        #expect(abs(pool.alpha.grad!.data[0] - 3) < 1e-6)
    }

    @Test func batchesSplitIntoChunksMatchSampleBySampleResults() {
        // [9, 16, 16, 16] with a 3×3 kernel: K·P = 144·256 floats per sample, so the batch runs as im2col chunks
        // of 7 and 2 samples (2¹⁸ floats a chunk); each single sample runs as one chunk. Values and all
        // gradients must agree (Winograd's chunking: winogradChunksAndRunsMatchIm2col).
        let x = rnd([9, 16, 16, 16], seed: 1), w = rnd([4, 16, 3, 3], seed: 2), b = rnd([4], seed: 3)
        let wt = rnd([16, 4, 3, 3], seed: 4), bt = rnd([4], seed: 5)
        #expect(ConvGeometry(batch: 9, channels: 16, height: 16, width: 16, kernelH: 3, kernelW: 3,
                             strideH: 1, strideW: 1, padH: 1, padW: 1).sampleChunks().count == 2)
        let ops: [(String, (Tensor) -> Tensor)] = [
            ("conv2d", { $0.conv2d(w, bias: b, stride: (1, 1), padding: (1, 1), algorithm: .im2col) }),
            ("convTranspose2d", { $0.convTranspose2d(wt, bias: bt, stride: 1, padding: 1) }),
        ]
        for (name, op) in ops {
            for t in [x, w, b, wt, bt] { t.requiresGrad = true; t.grad = nil }
            let y = op(x)
            let seed = rnd(y.shape, seed: 6)
            y.backward(seed: seed)
            let (dx, dw, db, dwt, dbt) = (x.grad!.data, w.grad?.data, b.grad?.data, wt.grad?.data, bt.grad?.data)
            for t in [w, b, wt, bt] { t.grad = nil }
            var worst: Float = 0
            for i in 0..<9 {
                let xi = x.slice(axis: 0, i..<(i + 1)).detached()
                xi.requiresGrad = true
                let yi = op(xi)
                worst = Swift.max(worst, maxAbsDifference(yi, y.slice(axis: 0, i..<(i + 1))))
                yi.backward(seed: seed.slice(axis: 0, i..<(i + 1)).detached())
                let part = Tensor(shape: xi.shape, data: Array(dx[(i * xi.count)..<((i + 1) * xi.count)]))
                worst = Swift.max(worst, maxAbsDifference(xi.grad!, part))
            }
            #expect(worst < 1e-4, "\(name): values or input gradients")
            for (summed, whole) in [(w.grad?.data, dw), (b.grad?.data, db), (wt.grad?.data, dwt), (bt.grad?.data, dbt)] {
                #expect((summed == nil) == (whole == nil), "\(name)")
                if let summed, let whole {
                    let scale = whole.map { Swift.abs($0) }.max() ?? 1
                    #expect(zip(summed, whole).allSatisfy { Swift.abs($0 - $1) < 1e-4 * Swift.max(1, scale) }, "\(name): parameter gradients")
                }
            }
        }
    }

    @Test func emptyBatchesGiveEmptyResultsAndZeroGradients() {
        // A mixture-of-experts split can hand an expert no samples.
        let x = Tensor.zeros([0, 2, 6, 6]), w = rnd([3, 2, 3, 3], seed: 1), b = rnd([3], seed: 2), wt = rnd([2, 3, 2, 2], seed: 3)
        for t in [x, w, b, wt] { t.requiresGrad = true }
        let outputs = [x.conv2d(w, bias: b, stride: 1, padding: 1), x.convTranspose2d(wt, stride: 2, padding: 0),
                       x.maxPool2d(kernel: 2), x.avgPool2d(kernel: 3), x.upsampleNearest(scale: 2),
                       x.globalAvgPool(), x.sorted().values, x.topk(2).values]
        #expect(outputs.map(\.shape) == [[0, 3, 6, 6], [0, 3, 12, 12], [0, 2, 3, 3], [0, 2, 2, 2], [0, 2, 12, 12],
                                          [0, 2], [0, 2, 6, 6], [0, 2, 6, 2]])
        for y in outputs { (y.sum() + w.sum() * 0 + wt.sum() * 0 + b.sum() * 0).backward() }
        #expect(w.grad!.data.allSatisfy { $0 == 0 } && b.grad!.data.allSatisfy { $0 == 0 } && x.grad!.count == 0)
    }

    @Test func noGradForwardRecordsNothingAndBackwardAccumulates() {
        let x = rnd([2, 2, 5, 5], seed: 1), w = rnd([3, 2, 3, 3], seed: 2)
        w.requiresGrad = true
        let y = noGrad { x.conv2d(w, stride: 1, padding: 1) }
        #expect(!y.requiresGrad)
        // Two backward passes accumulate: the weight gradient doubles.
        x.conv2d(w, stride: 1, padding: 1).sum().backward()
        let once = w.grad!.data
        x.conv2d(w, stride: 1, padding: 1).sum().backward()
        #expect(zip(w.grad!.data, once).allSatisfy { Swift.abs($0 - 2 * $1) < 1e-4 })
        #expect(x.grad == nil)
    }

    /// Winograd F(2×2, 3×3) against naive loops (values) and the im2col path (all gradients): paddings 0–2,
    /// odd and even output sizes (partial edge tiles), one and three channels, a single sample.
    @Test func winogradMatchesNaiveLoopsAndIm2col() {
        let cases: [(b: Int, c: Int, h: Int, w: Int, f: Int, p: Int)] = [
            (2, 3, 6, 6, 4, 0), (1, 1, 5, 7, 2, 1), (3, 2, 7, 4, 3, 2), (2, 4, 3, 3, 5, 1), (1, 3, 9, 8, 2, 0),
        ]
        for (n, c) in cases.enumerated() {
            let x = rnd([c.b, c.c, c.h, c.w], seed: UInt64(40 + n)), wt = rnd([c.f, c.c, 3, 3], seed: UInt64(50 + n))
            let bias = rnd([c.f], seed: UInt64(60 + n))
            var gradients: [[Float]] = []
            for algorithm in [ConvAlgorithm.winograd, .im2col] {
                for t in [x, wt, bias] { t.requiresGrad = true; t.grad = nil }
                let y = x.conv2d(wt, bias: bias, stride: (1, 1), padding: (c.p, c.p), algorithm: algorithm)
                let ref = referenceConv2d(x, wt, bias, stride: (1, 1), padding: (c.p, c.p))
                #expect(y.shape == ref.shape && maxAbsDifference(y, ref) < 1e-4, "case \(n) \(algorithm)")
                y.backward(seed: rnd(y.shape, seed: UInt64(70 + n)))
                gradients.append(x.grad!.data + wt.grad!.data + bias.grad!.data)
            }
            #expect(zip(gradients[0], gradients[1]).allSatisfy { Swift.abs($0 - $1) < 1e-4 }, "case \(n): gradients")
        }
    }

    @Test func gradientsOfWinogradConvolution() {
        let checks: [(String, [Tensor], ([Tensor]) -> Tensor)] = [
            ("winograd padding 1, odd output", [rnd([2, 2, 5, 5], seed: 1), rnd([3, 2, 3, 3], seed: 2), rnd([3], seed: 3)],
             { $0[0].conv2d($0[1], bias: $0[2], stride: (1, 1), padding: (1, 1), algorithm: .winograd) }),
            ("winograd padding 0, no bias", [rnd([1, 3, 6, 5], seed: 4), rnd([2, 3, 3, 3], seed: 5)],
             { $0[0].conv2d($0[1], bias: nil, stride: (1, 1), padding: (0, 0), algorithm: .winograd) }),
            ("winograd padding 2", [rnd([1, 2, 4, 3], seed: 6), rnd([2, 2, 3, 3], seed: 7), rnd([2], seed: 8)],
             { $0[0].conv2d($0[1], bias: $0[2], stride: (1, 1), padding: (2, 2), algorithm: .winograd) }),
        ]
        for (name, inputs, f) in checks {
            let r = gradientCheck(inputs, maxElements: 256, f)
            #expect(r.maxError < 1e-2, "\(name): \(r)")
        }
    }

    /// A batch that splits into per-thread runs and, within a run, into several Winograd chunks (C = F = 32 on
    /// 30×30: one sample a chunk), against the im2col path; automatic picks Winograd here and im2col where it
    /// does not apply (stride 2, or 5×5).
    @Test func winogradChunksAndRunsMatchIm2col() {
        let x = rnd([12, 32, 30, 30], seed: 1), wt = rnd([32, 32, 3, 3], seed: 2, low: -0.1, high: 0.1)
        let bias = rnd([32], seed: 3)
        var results: [[Float]] = []
        for algorithm in [ConvAlgorithm.winograd, .im2col, .automatic] {
            for t in [x, wt, bias] { t.requiresGrad = true; t.grad = nil }
            let y = x.conv2d(wt, bias: bias, stride: (1, 1), padding: (0, 0), algorithm: algorithm)
            y.backward(seed: rnd(y.shape, seed: 4))
            results.append(y.data + x.grad!.data + wt.grad!.data + bias.grad!.data)
        }
        let scale = results[1].map { Swift.abs($0) }.max()!
        #expect(zip(results[0], results[1]).allSatisfy { Swift.abs($0 - $1) < 1e-5 * scale })
        #expect(results[2] == results[0], "automatic runs Winograd for a 3×3 stride-1 kernel over 32 channels")
        // A frozen weight: the forward keeps no transformed input, and the input gradient is the same.
        wt.requiresGrad = false; x.grad = nil
        let y = x.conv2d(wt, bias: bias, stride: (1, 1), padding: (0, 0), algorithm: .winograd)
        y.backward(seed: rnd(y.shape, seed: 4))
        let inputGradient = Array(results[0][y.count..<(y.count + x.count)])
        let frozenMatches = x.grad!.data == inputGradient
        #expect(frozenMatches, "input gradient with a frozen weight")
        let (x2, w5) = (rnd([2, 8, 9, 9], seed: 5), rnd([4, 8, 5, 5], seed: 6))
        #expect(x2.conv2d(w5, bias: nil, stride: (1, 1), padding: (1, 1), algorithm: .winograd).data
                == x2.conv2d(w5, bias: nil, stride: (1, 1), padding: (1, 1), algorithm: .im2col).data)
        let w3 = rnd([4, 8, 3, 3], seed: 7)
        #expect(x2.conv2d(w3, stride: 2, padding: 1).data
                == x2.conv2d(w3, bias: nil, stride: (2, 2), padding: (1, 1), algorithm: .im2col).data)
    }

    /// `conv2d(..., relu: true)` (and `Conv2d(relu:)`) is `conv2d(...).relu()` bit for bit: outputs and the input,
    /// weight and bias gradients, by im2col and Winograd, on one sample (one run: the kernels use every thread) and
    /// on a batch that splits into per-thread runs and chunks; and its gradients pass the finite-difference check.
    @Test func fusedReLUIsConvThenReLUBitForBit() {
        for (batch, size) in [(1, 9), (12, 30)] {
            let x = rnd([batch, 32, size, size], seed: 11), wt = rnd([32, 32, 3, 3], seed: 12, low: -0.1, high: 0.1)
            let bias = rnd([32], seed: 13)
            for algorithm in [ConvAlgorithm.im2col, .winograd] {
                var results: [[Float]] = []
                for fused in [false, true] {
                    for t in [x, wt, bias] { t.requiresGrad = true; t.grad = nil }
                    let y = fused ? x.conv2d(wt, bias: bias, stride: (1, 1), padding: (1, 1), algorithm: algorithm, relu: true)
                                  : x.conv2d(wt, bias: bias, stride: (1, 1), padding: (1, 1), algorithm: algorithm).relu()
                    y.backward(seed: rnd(y.shape, seed: 14))
                    results.append(y.data + x.grad!.data + wt.grad!.data + bias.grad!.data)
                }
                let zeros = results[1].prefix(batch * 32 * size * size).filter { $0 == 0 }.count
                #expect(zeros > 0 && zeros < batch * 32 * size * size, "the ReLU clips some outputs and passes others")
                let differing = zip(results[0], results[1]).filter { $0.0.bitPattern != $0.1.bitPattern }.count
                #expect(differing == 0, "\(algorithm), batch \(batch): \(differing) values differ")
            }
        }
        var rng = RNG(seed: 15)
        let layer = Conv2d(inputChannels: 8, outputChannels: 4, kernelSize: 3, padding: 1, relu: true, rng: &rng)
        let x = rnd([2, 8, 5, 5], seed: 16)
        let layerMatches = layer(x).data == x.conv2d(layer.weight, bias: layer.bias, stride: (1, 1), padding: (1, 1)).relu().data
        #expect(layerMatches, "Conv2d(relu: true)")
        for algorithm in [ConvAlgorithm.im2col, .winograd] {
            let r = gradientCheck([rnd([2, 2, 5, 5], seed: 1), rnd([3, 2, 3, 3], seed: 2), rnd([3], seed: 3)], epsilon: 1e-3, maxElements: 256) {  // (ε = 1e-3: no output within reach of the kink)
                $0[0].conv2d($0[1], bias: $0[2], stride: (1, 1), padding: (1, 1), algorithm: algorithm, relu: true)
            }
            #expect(r.maxError < 1e-2, "\(algorithm): \(r)")
        }
    }

    /// CLabKernels' column-stride-1 im2col/col2im against the Swift loops, bit for bit: kernel 1–5 wide, paddings
    /// 0–2 (the padding wider than the kernel reach included), row strides 1–2, widths below, at and above 8 lanes.
    @Test func im2colAndCol2imKernelsMatchTheSwiftLoopsBitForBit() {
        guard hasAVX2Kernels else { return }
        var seed: UInt64 = 10
        for (kh, kw) in [(1, 1), (3, 3), (2, 5), (5, 2)] {
            for (ph, pw) in [(0, 0), (1, 1), (2, 2), (0, 2)] {
                for strideH in [1, 2] {
                    for (h, w) in [(5, 3), (7, 8), (6, 13), (9, 17)] {
                        let g = ConvGeometry(batch: 2, channels: 3, height: h, width: w, kernelH: kh, kernelW: kw,
                                             strideH: strideH, strideW: 1, padH: ph, padW: pw)
                        guard g.outH > 0 && g.outW > 0 else { continue }
                        seed += 1
                        let x = rnd([2, 3, h, w], seed: seed).data
                        let n = g.patch * g.columns
                        var kernel = [Float](repeating: .nan, count: n), loops = kernel
                        x.withUnsafeBufferPointer { xp in
                            im2col(xp.baseAddress!, g, into: &kernel, parallel: false, useAVX2: true)
                            im2col(xp.baseAddress!, g, into: &loops, parallel: false, useAVX2: false)
                        }
                        #expect(kernel.map(\.bitPattern) == loops.map(\.bitPattern), "im2col \(g)")
                        let cols = rnd([n], seed: seed + 1000).data
                        var sumKernel = rnd([2, 3, h, w], seed: seed + 2000).data, sumLoops = sumKernel
                        cols.withUnsafeBufferPointer { cp in
                            col2im(cp.baseAddress!, g, addingInto: &sumKernel, parallel: false, useAVX2: true)
                            col2im(cp.baseAddress!, g, addingInto: &sumLoops, parallel: false, useAVX2: false)
                        }
                        #expect(sumKernel.map(\.bitPattern) == sumLoops.map(\.bitPattern), "col2im \(g)")
                    }
                }
            }
        }
    }
}
