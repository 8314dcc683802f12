import Foundation
import Testing
@testable import Lab

/// Sort-based references of the three rules, written from their definitions (SparsityRule's doc comment).
enum SparsifyReference {
    /// top-p: sort |v| descending, S_k running sums in Float64, t = a_(k*) at the first S_k ≥ p·S; keep a ≥ t.
    static func topP(_ v: [Float], p: Double) -> [Float] {
        let a = v.map(abs)
        if p >= 1 { return v }
        let sorted = a.sorted(by: >)
        let total = a.reduce(0.0) { $0 + Double($1) }
        var running = 0.0, threshold = sorted.last!
        for x in sorted {
            running += Double(x)
            if running >= p * total { threshold = x; break }
        }
        return zip(v, a).map { $1 >= threshold ? $0 : 0 }
    }

    /// top-k: the ⌊n·k⌋ largest |v_i|, ties by lower index.
    static func topK(_ v: [Float], k: Double) -> [Float] {
        let keep = Int((Double(v.count) * k).rounded(.down))
        let order = v.indices.sorted { abs(v[$0]) != abs(v[$1]) ? abs(v[$0]) > abs(v[$1]) : $0 < $1 }
        var out = [Float](repeating: 0, count: v.count)
        for i in order.prefix(keep) { out[i] = v[i] }
        return out
    }

    static func maxP(_ v: [Float], p: Double) -> [Float] {
        let largest = v.map(abs).max()!
        return v.map { abs($0) >= Float(p) * largest ? $0 : 0 }
    }
}

@Suite struct SparsifyTests {
    /// Random rows of three kinds: Gaussian, small integers (many ties, exact Float64 sums) with zeros, and
    /// rows mostly zero.
    func rows(_ rng: inout RNG, width: Int) -> [[Float]] {
        var out: [[Float]] = []
        for kind in 0..<3 {
            for _ in 0..<20 {
                out.append((0..<width).map { _ in
                    switch kind {
                    case 0: return Float(rng.normal()) * 3
                    case 1: return Float(rng.int(below: 9) - 4)
                    default: return rng.uniform(0, 1) < 0.9 ? 0 : Float(rng.normal())
                    }
                })
            }
        }
        out.append([Float](repeating: 0, count: width))
        out.append([Float](repeating: -2, count: width))
        return out
    }

    @Test(arguments: [7, 96, 1536]) func histogramRulesEqualTheSortReference(width: Int) {
        var rng = RNG(seed: UInt64(width))
        for v in rows(&rng, width: width) {
            for p in [0.0, 0.3, 0.5, 0.8, 0.9, 0.95, 0.99, 1.0] {
                var got = v
                let zeros = Sparsify.apply(.topP(p), to: &got, width: width)
                let want = SparsifyReference.topP(v, p: p)
                #expect(got == want, "top-p \(p), width \(width)")
                #expect(zeros == want.filter { $0 == 0 }.count)
            }
            for k in [0.0, 0.1, 0.25, 0.5, 0.77, 1.0] {
                var got = v
                Sparsify.apply(.topK(k), to: &got, width: width)
                #expect(got == SparsifyReference.topK(v, k: k), "top-k \(k), width \(width)")
            }
            for p in [0.0, 0.05, 0.2, 1.0] {
                var got = v
                Sparsify.apply(.maxP(p), to: &got, width: width)
                #expect(got == SparsifyReference.maxP(v, p: p), "max-p \(p), width \(width)")
            }
        }
    }

    @Test func topPEdgeCases() {
        // p = 0 keeps the maximum and its ties; p = 1 keeps every non-zero entry; mass split exactly.
        var v: [Float] = [1, -4, 4, 0, 2, -1]
        Sparsify.apply(.topP(0), to: &v, width: 6)
        #expect(v == [0, -4, 4, 0, 0, 0])
        var w: [Float] = [1, -4, 3, 0, 2, -1e-30]
        Sparsify.apply(.topP(1), to: &w, width: 6)
        #expect(w == [1, -4, 3, 0, 2, -1e-30])
        // |v| = 4, 3, 2, 1 (S = 10): p = 0.7 needs 4 + 3 = 7 → keeps {4, 3}; p = 0.71 also needs 2.
        var x: [Float] = [2, 4, 1, 3]
        Sparsify.apply(.topP(0.7), to: &x, width: 4)
        #expect(x == [0, 4, 0, 3])
        var y: [Float] = [2, 4, 1, 3]
        Sparsify.apply(.topP(0.71), to: &y, width: 4)
        #expect(y == [2, 4, 0, 3])
    }

    @Test func stridedRowsAndCounts() {
        // Two rows of width 3 with stride 5: the two padding floats per row stay untouched.
        var buffer: [Float] = [3, 1, 0.5, 99, 99, -1, -2, 6, 99, 99]
        let counts = buffer.withUnsafeMutableBufferPointer {
            Sparsify.rowZeroCounts(.topK(1.0 / 3), to: $0.baseAddress!, rows: 2, width: 3, rowStride: 5)
        }
        #expect(buffer == [3, 0, 0, 99, 99, 0, 0, 6, 99, 99])
        #expect(counts == [2, 2])
    }

    @Test func sparsifiedTensorGradientFlowsThroughKeptEntries() {
        var rng = RNG(seed: 3)
        // Well-separated magnitudes so that ±ε never changes which entries are kept.
        let x = Tensor(shape: [3, 8], data: (0..<24).map { i in Float((i * 7) % 24 + 1) * (rng.uniform(0, 1) < 0.5 ? -0.5 : 0.5) })
        for rule in [SparsityRule.topP(0.6), .topK(0.5), .maxP(0.3)] {
            let result = gradientCheck([x], epsilon: 1e-2) { $0[0].sparsified(rule) * 2 }
            #expect(result.maxError < 1e-2, "\(rule): \(result)")
        }
        x.grad = nil
        let y = x.sparsified(.topK(0.25))
        y.sum().backward()
        #expect(x.grad!.data == y.data.map { $0 == 0 ? 0 : 1 })
    }

    @Test func swigluMatchesItsFormulaAndHooksRewrite() {
        var rng = RNG(seed: 5)
        let ffn = SwiGLU(dimension: 4, hiddenSize: 6, rng: &rng)
        let x = Tensor.randn([2, 4], rng: &rng)
        let g = x.matmul(ffn.gate.weight, transposeB: true).silu()
        let u = x.matmul(ffn.up.weight, transposeB: true)
        let expected = (g * u).matmul(ffn.down.weight, transposeB: true)
        #expect(zip(ffn(x).data, expected.data).allSatisfy { abs($0 - $1) < 1e-5 })
        var seen: [FFNHookPoint] = []
        let zeroed = ffn(x) { point, t in
            seen.append(point)
            return point == .intermediate ? t * 0 : t
        }
        #expect(seen == [.input, .gate, .up, .intermediate])
        #expect(zeroed.data.allSatisfy { $0 == 0 })
        let check = gradientCheck([x, ffn.gate.weight, ffn.up.weight, ffn.down.weight]) { inputs in
            let (xi, wg, wu, wd) = (inputs[0], inputs[1], inputs[2], inputs[3])
            return (xi.matmul(wg, transposeB: true).silu() * xi.matmul(wu, transposeB: true)).matmul(wd, transposeB: true)
        }
        #expect(check.maxError < 1e-2, "\(check)")
    }
}

@Suite struct SymmetricEigenvaluesTests {
    @Test func matchesTheFullDecompositionAndSingularValues() throws {
        var rng = RNG(seed: 11)
        let a = Matrix(rows: 5, cols: 9, data: (0..<45).map { _ in rng.normal() })
        let gram = a.gram(rowSide: true)
        let values = try symmetricEigenvalues(gram)
        let full = try symmetricEigen(gram).values
        #expect(zip(values, full).allSatisfy { abs($0 - $1) < 1e-9 })
        let sigma = try singularValues(a).sorted()
        #expect(zip(values, sigma).allSatisfy { abs($0 - $1 * $1) < 1e-9 })
    }
}
