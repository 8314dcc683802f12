import Foundation

// Elementwise arithmetic with broadcasting, scalar arithmetic and unary maps. Each op's backward sits
// right after its forward.

extension Tensor {
    /// out[i] = f(a[i], b[i]) with broadcasting; fast paths for equal shapes and scalars.
    @inline(__always)
    static func zipWith(_ a: Tensor, _ b: Tensor, op: String, _ f: (Float, Float) -> Float) -> Tensor {
        if a.shape == b.shape {
            return Tensor(shape: a.shape) { o in
                a.data.withUnsafeBufferPointer { x in
                    b.data.withUnsafeBufferPointer { y in
                        let (xp, yp, op) = (x.baseAddress!, y.baseAddress!, o.baseAddress!)
                        Parallel.forChunks(o.count) { lo, hi in
                            for i in lo..<hi { op[i] = f(xp[i], yp[i]) }
                        }
                    }
                }
            }
        }
        let shape = broadcastShape(a.shape, b.shape, op: op)
        let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
        return Tensor(shape: shape) { o in
            a.data.withUnsafeBufferPointer { x in
                b.data.withUnsafeBufferPointer { y in
                    forEachRun(shape: shape, aStrides: sa, bStrides: sb) { off, oa, ob, n, ia, ib in
                        if ia == 1 && ib == 1 {
                            for j in 0..<n { o[off + j] = f(x[oa + j], y[ob + j]) }
                        } else if ia == 1 {
                            let v = y[ob]
                            for j in 0..<n { o[off + j] = f(x[oa + j], v) }
                        } else if ib == 1 {
                            let v = x[oa]
                            for j in 0..<n { o[off + j] = f(v, y[ob + j]) }
                        } else {
                            let u = x[oa], v = y[ob]
                            for j in 0..<n { o[off + j] = f(u, v) }
                        }
                    }
                }
            }
        }
    }

    /// out[i] = f(a[i]).
    @inline(__always)
    public func map(_ f: (Float) -> Float) -> Tensor {
        Tensor(shape: shape) { o in
            data.withUnsafeBufferPointer { x in
                let (xp, op) = (x.baseAddress!, o.baseAddress!)
                Parallel.forChunks(o.count, costPerItem: 4) { lo, hi in
                    for i in lo..<hi { op[i] = f(xp[i]) }
                }
            }
        }
    }

    /// A tensor of `x`'s shape written in parallel chunks: `kernel(x, y, range)` writes y[range] from x[range].
    /// The kernel holds the element loop itself, so no closure is called per element and the loop vectorises
    /// (`map(f)` calls f through a closure context once it runs on several threads).
    static func mapChunks(_ x: Tensor, costPerItem: Int,
                          _ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Range<Int>) -> Void) -> Tensor {
        Tensor(shape: x.shape) { y in
            x.data.withUnsafeBufferPointer { xp in
                guard let xb = xp.baseAddress, let yb = y.baseAddress else { return }  // empty tensor
                Parallel.forChunks(y.count, costPerItem: costPerItem) { lo, hi in kernel(xb, yb, lo..<hi) }
            }
        }
    }

    /// `mapChunks` over two inputs of equal size: `kernel(a, b, y, range)` writes y[range].
    static func zipChunks(_ a: Tensor, _ b: Tensor, costPerItem: Int,
                          _ kernel: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Range<Int>) -> Void) -> Tensor {
        precondition(a.count == b.count, "zipChunks: \(a.shape) and \(b.shape) differ in size")
        return Tensor(shape: a.shape) { y in
            a.data.withUnsafeBufferPointer { ap in
                b.data.withUnsafeBufferPointer { bp in
                    guard let ab = ap.baseAddress, let bb = bp.baseAddress, let yb = y.baseAddress else { return }
                    Parallel.forChunks(y.count, costPerItem: costPerItem) { lo, hi in kernel(ab, bb, yb, lo..<hi) }
                }
            }
        }
    }

    /// A differentiable unary op: `forward` per element and `derivative(x, y)` = dy/dx per element.
    @inline(__always)
    func unary(_ forward: (Float) -> Float, derivative: @escaping (Float, Float) -> Float) -> Tensor {
        let out = map(forward)
        guard Tensor.recording(self) else { return out }
        let x = self
        return out.recorded(self) { [unowned out] g in
            let gx = Tensor(shape: x.shape) { dx in
                x.data.withUnsafeBufferPointer { xp in
                    out.data.withUnsafeBufferPointer { yp in
                        g.data.withUnsafeBufferPointer { gp in
                            for i in 0..<dx.count { dx[i] = gp[i] * derivative(xp[i], yp[i]) }
                        }
                    }
                }
            }
            x.accumulateGrad(gx)
        }
    }

    // MARK: - Binary arithmetic

    /// a + b, a − b and a ⊙ b for equal shapes as chunk kernels (the loop vectorises; `zipWith` calls its
    /// closure per element once it runs on several threads). Same values as `zipWith`.
    static func sameShapeSum(_ a: Tensor, _ b: Tensor) -> Tensor {
        zipChunks(a, b, costPerItem: 1) { x, y, o, range in for i in range { o[i] = x[i] + y[i] } }
    }
    static func sameShapeDifference(_ a: Tensor, _ b: Tensor) -> Tensor {
        zipChunks(a, b, costPerItem: 1) { x, y, o, range in for i in range { o[i] = x[i] - y[i] } }
    }
    static func sameShapeProduct(_ a: Tensor, _ b: Tensor) -> Tensor {
        zipChunks(a, b, costPerItem: 1) { x, y, o, range in for i in range { o[i] = x[i] * y[i] } }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let out = a.shape == b.shape ? sameShapeSum(a, b) : zipWith(a, b, op: "+", +)
        return out.recorded(a, b) { g in
            a.accumulateGrad(g.sumToShape(a.shape))
            b.accumulateGrad(g.sumToShape(b.shape))
        }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let out = a.shape == b.shape ? sameShapeDifference(a, b) : zipWith(a, b, op: "-", -)
        return out.recorded(a, b) { g in
            a.accumulateGrad(g.sumToShape(a.shape))
            if b.requiresGrad { b.accumulateGrad(g.sumToShape(b.shape).map { -$0 }) }
        }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let same = a.shape == b.shape
        let out = same ? sameShapeProduct(a, b) : zipWith(a, b, op: "*", *)
        return out.recorded(a, b) { g in
            if a.requiresGrad { a.accumulateGrad(same ? sameShapeProduct(g, b) : zipWith(g, b, op: "*", *).sumToShape(a.shape)) }
            if b.requiresGrad { b.accumulateGrad(same ? sameShapeProduct(g, a) : zipWith(g, a, op: "*", *).sumToShape(b.shape)) }
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let out = zipWith(a, b, op: "/", /)
        return out.recorded(a, b) { [unowned out] g in
            if a.requiresGrad { a.accumulateGrad(zipWith(g, b, op: "/", /).sumToShape(a.shape)) }
            if b.requiresGrad {
                // d(a/b)/db = -a/b² = -out/b
                let q = zipWith(out, b, op: "/", /)
                b.accumulateGrad(zipWith(g, q, op: "*", { -$0 * $1 }).sumToShape(b.shape))
            }
        }
    }

    public static prefix func - (a: Tensor) -> Tensor { a * -1 }

    /// Elementwise maximum (gradient to the larger; ties to a).
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        let out = zipWith(a, b, op: "maximum") { Swift.max($0, $1) }
        return out.recorded(a, b) { g in
            let ga = zipWith(zipWith(a, b, op: "maximum") { $0 >= $1 ? 1 : 0 }, g, op: "*", *)
            if a.requiresGrad { a.accumulateGrad(ga.sumToShape(a.shape)) }
            if b.requiresGrad { b.accumulateGrad(zipWith(g, ga, op: "-", -).sumToShape(b.shape)) }
        }
    }

    // MARK: - Scalar arithmetic

    public static func + (a: Tensor, s: Float) -> Tensor {
        a.map { $0 + s }.recorded(a) { g in a.accumulateGrad(g) }
    }
    public static func + (s: Float, a: Tensor) -> Tensor { a + s }
    public static func - (a: Tensor, s: Float) -> Tensor { a + (-s) }
    public static func - (s: Float, a: Tensor) -> Tensor {
        a.map { s - $0 }.recorded(a) { g in a.accumulateGrad(g.map { -$0 }) }
    }
    public static func * (a: Tensor, s: Float) -> Tensor {
        a.map { $0 * s }.recorded(a) { g in a.accumulateGrad(g.map { $0 * s }) }
    }
    public static func * (s: Float, a: Tensor) -> Tensor { a * s }
    public static func / (a: Tensor, s: Float) -> Tensor { a * (1 / s) }
    public static func / (s: Float, a: Tensor) -> Tensor {
        a.unary({ s / $0 }, derivative: { x, y in -y / x })
    }

    // MARK: - Unary maps

    public func exp() -> Tensor { unary(fastExp, derivative: { _, y in y }) }
    public func log() -> Tensor { unary(Foundation.log, derivative: { x, _ in 1 / x }) }
    /// log(1 + x), accurate near 0.
    public func log1p() -> Tensor { unary(Foundation.log1p, derivative: { x, _ in 1 / (1 + x) }) }
    /// e^x − 1, accurate near 0.
    public func expm1() -> Tensor { unary(Foundation.expm1, derivative: { _, y in y + 1 }) }
    public func sqrt() -> Tensor { unary(Foundation.sqrt, derivative: { _, y in 0.5 / y }) }
    public func abs() -> Tensor { unary(Swift.abs, derivative: { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) }) }
    /// x², as chunk kernels (like relu), so both directions vectorise; the backward is g·(2x), as `unary` computes it.
    public func square() -> Tensor {
        let x = self
        let out = Tensor.mapChunks(x, costPerItem: 1) { src, dst, range in
            for i in range { dst[i] = src[i] * src[i] }
        }
        guard Tensor.recording(x) else { return out }
        return out.recorded(x) { g in
            x.accumulateGrad(Tensor.zipChunks(g, x, costPerItem: 2) { grad, src, dst, range in
                for i in range { dst[i] = grad[i] * (2 * src[i]) }
            })
        }
    }
    public func pow(_ p: Float) -> Tensor {
        if p == 2 { return square() }
        return unary({ Foundation.pow($0, p) }, derivative: { x, _ in p * Foundation.pow(x, p - 1) })
    }
    public func sin() -> Tensor { unary(Foundation.sin, derivative: { x, _ in Foundation.cos(x) }) }
    public func cos() -> Tensor { unary(Foundation.cos, derivative: { x, _ in -Foundation.sin(x) }) }
    /// Values clamped to [low, high]; the gradient is 1 inside and 0 where clamped.
    public func clamp(min low: Float = -.infinity, max high: Float = .infinity) -> Tensor {
        unary({ Swift.min(Swift.max($0, low), high) }, derivative: { x, _ in x >= low && x <= high ? 1 : 0 })
    }
}
