/// Row kernels shared by the fused ops (attention, RMSNorm): reductions with explicit 16-lane accumulators
/// (four 4-lane vectors, the width the baseline x86-64 target has), so they vectorise (a plain `s += x[i]` loop
/// stays scalar: Float addition is not reassociated) and their order, hence their result, is fixed for a given
/// length. The horizontal step is written out lane by lane: SIMD's generic `.sum()`/`.max()` spill to memory.
enum RowKernels {
    @inline(__always)
    static func load(_ x: UnsafePointer<Float>, _ i: Int) -> SIMD4<Float> {
        UnsafeRawPointer(x + i).loadUnaligned(as: SIMD4<Float>.self)
    }

    @inline(__always)
    static func horizontalSum(_ a: SIMD4<Float>, _ b: SIMD4<Float>, _ c: SIMD4<Float>, _ d: SIMD4<Float>) -> Float {
        let v = (a + b) + (c + d)
        return (v[0] + v[1]) + (v[2] + v[3])
    }

    /// max of x[0..<n] (−∞ for n = 0).
    @inline(__always)
    static func max(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var a = SIMD4<Float>(repeating: -.infinity), b = a, c = a, d = a
        var i = 0
        while i + 16 <= n {
            a = pointwiseMax(a, load(x, i)); b = pointwiseMax(b, load(x, i + 4))
            c = pointwiseMax(c, load(x, i + 8)); d = pointwiseMax(d, load(x, i + 12))
            i += 16
        }
        let v = pointwiseMax(pointwiseMax(a, b), pointwiseMax(c, d))
        var m = Swift.max(Swift.max(v[0], v[1]), Swift.max(v[2], v[3]))
        while i < n { m = Swift.max(m, x[i]); i += 1 }
        return m
    }

    /// Σ x[0..<n].
    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var a = SIMD4<Float>(repeating: 0), b = a, c = a, d = a
        var i = 0
        while i + 16 <= n {
            a += load(x, i); b += load(x, i + 4); c += load(x, i + 8); d += load(x, i + 12)
            i += 16
        }
        var s = horizontalSum(a, b, c, d)
        while i < n { s += x[i]; i += 1 }
        return s
    }

    /// Σ x[i]·y[i] over 0..<n.
    @inline(__always)
    static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
        var a = SIMD4<Float>(repeating: 0), b = a, c = a, d = a
        var i = 0
        while i + 16 <= n {
            a += load(x, i) * load(y, i); b += load(x, i + 4) * load(y, i + 4)
            c += load(x, i + 8) * load(y, i + 8); d += load(x, i + 12) * load(y, i + 12)
            i += 16
        }
        var s = horizontalSum(a, b, c, d)
        while i < n { s += x[i] * y[i]; i += 1 }
        return s
    }

    /// x[i] = exp(x[i] − shift) for i in 0..<n; returns Σ of the new values.
    @inline(__always)
    static func expShifted(_ x: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
        for i in 0..<n { x[i] = fastExp(x[i] - shift) }   // no reduction in the loop: it vectorises
        return sum(x, n)
    }

    /// acc[j] += Σ_r x[r·stride + j] for j in 0..<n, the rows r = 0..<rows added one after the other into each
    /// column (the order of the plain loop `for r { for j { acc[j] += x[r·stride + j] } }`, so the same bits),
    /// with 16 columns held in registers while the rows stream past: the plain loop reloads and stores acc[j] per
    /// row and stays scalar (acc may alias x as far as the compiler knows).
    @inline(__always)
    static func addRows(_ x: UnsafePointer<Float>, rows: Int, stride: Int, _ n: Int, into acc: UnsafeMutablePointer<Float>) {
        var j = 0
        while j + 16 <= n {
            var a = load(acc, j), b = load(acc, j + 4), c = load(acc, j + 8), d = load(acc, j + 12)
            var row = x + j
            for _ in 0..<rows {
                a += load(row, 0); b += load(row, 4); c += load(row, 8); d += load(row, 12)
                row += stride
            }
            store(a, acc, j); store(b, acc, j + 4); store(c, acc, j + 8); store(d, acc, j + 12)
            j += 16
        }
        while j < n {
            var s = acc[j]
            for r in 0..<rows { s += x[r * stride + j] }
            acc[j] = s
            j += 1
        }
    }

    @inline(__always)
    static func store(_ v: SIMD4<Float>, _ x: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(x + i).storeBytes(of: v, as: SIMD4<Float>.self)
    }

    /// x[i] *= a over 0..<n.
    @inline(__always)
    static func scale(_ x: UnsafeMutablePointer<Float>, _ n: Int, by a: Float) {
        for i in 0..<n { x[i] *= a }
    }
}
