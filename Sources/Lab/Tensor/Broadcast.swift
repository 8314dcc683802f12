/// NumPy-style broadcasting: shapes are aligned on their last axes; an axis of extent 1 (or a missing leading
/// axis) stretches to the other operand's extent. Stops the program with `checkedBroadcastShape`'s message when
/// the shapes do not broadcast.
public func broadcastShape(_ a: [Int], _ b: [Int], op: String = "broadcast") -> [Int] {
    do { return try checkedBroadcastShape(a, b, op: op) } catch { preconditionFailure("\(error)") }
}

/// The broadcast shape of `a` and `b`, or a `LabError.shapeMismatch` naming the op, both shapes and the first
/// axis (of the broadcast result) whose extents differ.
public func checkedBroadcastShape(_ a: [Int], _ b: [Int], op: String = "broadcast") throws -> [Int] {
    let r = max(a.count, b.count)
    var out = [Int](repeating: 1, count: r)
    for i in 0..<r {
        let x = i < r - a.count ? 1 : a[i - (r - a.count)]
        let y = i < r - b.count ? 1 : b[i - (r - b.count)]
        guard x == y || x == 1 || y == 1 else {
            throw LabError.shapeMismatch(op: op, shapes: [a, b],
                                         reason: "they cannot be broadcast together (axis \(i): \(x) vs \(y))")
        }
        out[i] = x == 1 ? y : x
    }
    return out
}

/// Row-major strides of `shape` seen as a broadcast operand of `target` (0 on stretched axes).
func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let r = target.count
    var strides = [Int](repeating: 0, count: r)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        let t = i + (r - shape.count)
        strides[t] = shape[i] == 1 && target[t] != 1 ? 0 : s
        s *= shape[i]
    }
    return strides
}

/// Calls `body(outOffset, aOffset, bOffset, length, aStride, bStride)` for each run along the last axis of
/// `shape`, where a and b are read with the given (broadcast) strides. Runs are contiguous in the output.
@inline(__always)
func forEachRun(shape: [Int], aStrides: [Int], bStrides: [Int],
                _ body: (Int, Int, Int, Int, Int, Int) -> Void) {
    let r = shape.count
    if r == 0 { body(0, 0, 0, 1, 0, 0); return }
    let n = shape[r - 1]
    let outer = shape.reduce(1, *) / max(n, 1)
    if n == 0 || outer == 0 { return }
    let sa = aStrides[r - 1], sb = bStrides[r - 1]
    var idx = [Int](repeating: 0, count: r - 1)
    var oa = 0, ob = 0
    for o in 0..<outer {
        body(o * n, oa, ob, n, sa, sb)
        // Advance the multi-index over the leading axes (odometer).
        var d = r - 2
        while d >= 0 {
            idx[d] += 1
            oa += aStrides[d]; ob += bStrides[d]
            if idx[d] < shape[d] { break }
            oa -= aStrides[d] * shape[d]; ob -= bStrides[d] * shape[d]
            idx[d] = 0
            d -= 1
        }
    }
}

extension Tensor {
    /// The sum of `self` over the axes along which it was broadcast to reach its shape from `target`
    /// (the adjoint of broadcasting). Used by the backward of every broadcasting op.
    public func sumToShape(_ target: [Int]) -> Tensor {
        if target == shape { return self }
        let strides = broadcastStrides(target, to: shape)
        var out = [Float](repeating: 0, count: target.reduce(1, *))
        data.withUnsafeBufferPointer { g in
            out.withUnsafeMutableBufferPointer { o in
                forEachRun(shape: shape, aStrides: strides, bStrides: strides) { off, oo, _, n, s, _ in
                    if s == 0 {
                        var acc: Float = 0
                        for j in 0..<n { acc += g[off + j] }
                        o[oo] += acc
                    } else {
                        for j in 0..<n { o[oo + j] += g[off + j] }
                    }
                }
            }
        }
        return Tensor(shape: target, data: out)
    }

    /// `self` broadcast (copied) to `shape`.
    public func broadcast(to target: [Int]) -> Tensor {
        if target == shape { return self }
        let out = broadcastShape(shape, target, op: "broadcast(to:)")
        precondition(out == target, "broadcast(to:): \(shape) cannot be broadcast to \(target)")
        let strides = broadcastStrides(shape, to: target)
        let result = Tensor(shape: target, unsafeUninitialized: { o in
            data.withUnsafeBufferPointer { a in
                forEachRun(shape: target, aStrides: strides, bStrides: strides) { off, oa, _, n, s, _ in
                    for j in 0..<n { o[off + j] = a[oa + j * s] }
                }
            }
        })
        let src = self
        return result.recorded(self) { g in src.accumulateGrad(g.sumToShape(src.shape)) }
    }
}
