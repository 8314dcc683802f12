// Shape and indexing ops: reshape, permute, slicing, concatenation, gathering and scattering, masks.

extension Tensor {
    /// The same elements with another shape (one extent may be -1 and is inferred). Shares storage
    /// copy-on-write; the gradient is reshaped back.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "reshape: cannot infer -1 in \(newShape) for \(count) elements")
            s[i] = count / known
        }
        precondition(s.reduce(1, *) == count, "reshape: shape \(shape) (\(count) elements) cannot become \(newShape)")
        let out = Tensor(shape: s, data: data)
        let src = self
        return out.recorded(self) { g in src.accumulateGrad(g.data) }
    }

    /// Flattens axes from `start` on: [B, C, H, W] → [B, C·H·W].
    public func flattened(from start: Int = 1) -> Tensor {
        reshaped(Array(shape[..<start]) + [shape[start...].reduce(1, *)])
    }

    /// Inserts an axis of extent 1.
    public func unsqueezed(_ axis: Int) -> Tensor {
        var s = shape
        s.insert(1, at: axis < 0 ? axis + rank + 1 : axis)
        return reshaped(s)
    }

    /// Removes an axis of extent 1.
    public func squeezed(_ axis: Int) -> Tensor {
        let a = self.axis(axis)
        precondition(shape[a] == 1, "squeeze: axis \(axis) of \(shape) has extent \(shape[a]), not 1")
        var s = shape
        s.remove(at: a)
        return reshaped(s)
    }

    /// Axes reordered: out.shape[i] = shape[order[i]] (a copy).
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<rank), "permute: \(order) is not a permutation of the axes of \(shape)")
        if order == Array(0..<rank) { return self }
        let newShape = order.map { shape[$0] }
        let out = Tensor(shape: newShape) { o in permuteCopy(from: data, shape: shape, order: order, into: o) }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in order.enumerated() { inverse[a] = i }
        let src = self
        return out.recorded(self) { g in
            var gx = [Float](repeating: 0, count: src.count)
            gx.withUnsafeMutableBufferPointer { permuteCopy(from: g.data, shape: newShape, order: inverse, into: $0) }
            src.accumulateGrad(gx)
        }
    }

    /// Swaps two axes (default: the last two) — a copy.
    public func transposed(_ a0: Int = -2, _ a1: Int = -1) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(axis(a0), axis(a1))
        return permuted(order)
    }

    /// The 2-d transpose.
    public var T: Tensor {
        precondition(rank == 2, ".T: tensor of shape \(shape) is not 2-d")
        return transposed(0, 1)
    }

    /// Elements `range` along `axis` (a copy).
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let a = self.axis(axis)
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[a],
                     "slice: range \(range) out of bounds for axis \(axis) of \(shape)")
        let (outer, n, inner) = split(around: a)
        let m = range.count
        var newShape = shape
        newShape[a] = m
        let out = Tensor(shape: newShape) { o in
            data.withUnsafeBufferPointer { x in
                for b in 0..<outer {
                    let src = (b * n + range.lowerBound) * inner, dst = b * m * inner
                    for j in 0..<(m * inner) { o[dst + j] = x[src + j] }
                }
            }
        }
        let src = self
        return out.recorded(self) { g in
            var gx = [Float](repeating: 0, count: src.count)
            for b in 0..<outer {
                let s = (b * n + range.lowerBound) * inner, d = b * m * inner
                for j in 0..<(m * inner) { gx[s + j] = g.data[d + j] }
            }
            src.accumulateGrad(gx)
        }
    }

    /// Splits along `axis` into pieces of the given sizes.
    public func split(sizes: [Int], axis: Int) -> [Tensor] {
        precondition(sizes.reduce(0, +) == shape[self.axis(axis)], "split: sizes \(sizes) do not add up to axis \(axis) of \(shape)")
        var start = 0
        return sizes.map { n in defer { start += n }; return slice(axis: axis, start..<(start + n)) }
    }

    /// Concatenation along `axis`; all other extents must agree.
    public static func concat(_ parts: [Tensor], axis: Int) -> Tensor {
        precondition(!parts.isEmpty, "concat: no tensors")
        let first = parts[0]
        let a = first.axis(axis)
        for p in parts {
            precondition(p.rank == first.rank && (0..<first.rank).allSatisfy { $0 == a || p.shape[$0] == first.shape[$0] },
                         "concat: shapes \(parts.map(\.shape)) differ outside axis \(axis)")
        }
        let outer = first.shape[..<a].reduce(1, *)
        let inner = first.shape[(a + 1)...].reduce(1, *)
        let sizes = parts.map { $0.shape[a] }
        let total = sizes.reduce(0, +)
        var newShape = first.shape
        newShape[a] = total
        let out = Tensor(shape: newShape) { o in
            var offset = 0
            for (p, n) in zip(parts, sizes) {
                p.data.withUnsafeBufferPointer { x in
                    for b in 0..<outer {
                        let dst = (b * total + offset) * inner, src = b * n * inner
                        for j in 0..<(n * inner) { o[dst + j] = x[src + j] }
                    }
                }
                offset += n
            }
        }
        return out.recorded(inputs: parts) { g in
            var offset = 0
            for (p, n) in zip(parts, sizes) {
                if p.requiresGrad {
                    var gx = [Float](repeating: 0, count: p.count)
                    for b in 0..<outer {
                        let src = (b * total + offset) * inner, dst = b * n * inner
                        for j in 0..<(n * inner) { gx[dst + j] = g.data[src + j] }
                    }
                    p.accumulateGrad(gx)
                }
                offset += n
            }
        }
    }

    /// Stacks equal-shaped tensors along a new axis.
    public static func stack(_ parts: [Tensor], axis: Int = 0) -> Tensor {
        concat(parts.map { $0.unsqueezed(axis) }, axis: axis)
    }

    /// Rows (entries along `axis`) picked by `indices`, in that order; repeated indices accumulate gradient.
    public func indexSelect(axis: Int, _ indices: [Int]) -> Tensor {
        let a = self.axis(axis)
        let (outer, n, inner) = split(around: a)
        for i in indices { precondition(i >= 0 && i < n, "indexSelect: index \(i) out of range 0..<\(n) for axis \(axis) of \(shape)") }
        var newShape = shape
        newShape[a] = indices.count
        let m = indices.count
        let out = Tensor(shape: newShape) { o in
            data.withUnsafeBufferPointer { x in
                for b in 0..<outer {
                    for (k, i) in indices.enumerated() {
                        let src = (b * n + i) * inner, dst = (b * m + k) * inner
                        for j in 0..<inner { o[dst + j] = x[src + j] }
                    }
                }
            }
        }
        let src = self
        return out.recorded(self) { g in
            var gx = [Float](repeating: 0, count: src.count)
            for b in 0..<outer {
                for (k, i) in indices.enumerated() {
                    let s = (b * n + i) * inner, d = (b * m + k) * inner
                    for j in 0..<inner { gx[s + j] += g.data[d + j] }
                }
            }
            src.accumulateGrad(gx)
        }
    }

    /// out[r] = self[r, index[r]] for a 2-d tensor [R, C] (one pick per row, e.g. the target logit).
    public func gather(columns index: [Int]) -> Tensor {
        precondition(rank == 2 && index.count == shape[0], "gather(columns:): \(index.count) indices for shape \(shape)")
        let c = shape[1]
        for i in index { precondition(i >= 0 && i < c, "gather(columns:): index \(i) out of range 0..<\(c)") }
        let out = Tensor(shape: [index.count], data: index.enumerated().map { data[$0.offset * c + $0.element] })
        let src = self
        return out.recorded(self) { g in
            var gx = [Float](repeating: 0, count: src.count)
            for (r, i) in index.enumerated() { gx[r * c + i] += g.data[r] }
            src.accumulateGrad(gx)
        }
    }

    /// A tensor of `shape` (with `self` as its rows along axis 0) where row `index[k]` receives the sum of
    /// rows k of self: the adjoint of `indexSelect(axis: 0, _)`. Used to merge per-expert batches back.
    public func scatterAdd(rows index: [Int], into rowCount: Int) -> Tensor {
        precondition(index.count == shape[0], "scatterAdd: \(index.count) indices for \(shape[0]) rows")
        let inner = count / Swift.max(shape[0], 1)
        var newShape = shape
        newShape[0] = rowCount
        var out = [Float](repeating: 0, count: rowCount * inner)
        for (k, r) in index.enumerated() {
            precondition(r >= 0 && r < rowCount, "scatterAdd: row \(r) out of range 0..<\(rowCount)")
            for j in 0..<inner { out[r * inner + j] += data[k * inner + j] }
        }
        let result = Tensor(shape: newShape, data: out)
        let src = self
        return result.recorded(self) { g in
            var gx = [Float](repeating: 0, count: src.count)
            for (k, r) in index.enumerated() { for j in 0..<inner { gx[k * inner + j] = g.data[r * inner + j] } }
            src.accumulateGrad(gx)
        }
    }

    /// Elementwise choice: mask ≠ 0 → a, else b (broadcasting); gradients go to the chosen side.
    public static func `where`(_ mask: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let m = mask.broadcast(to: broadcastShape(broadcastShape(mask.shape, a.shape), b.shape)).detached()
        return a * m + b * (1 - m)
    }

    /// Replaces elements where mask ≠ 0 by `value` (e.g. −∞ before a softmax); gradient 0 there.
    public func maskedFill(_ mask: Tensor, _ value: Float) -> Tensor {
        let m = mask.shape == shape ? mask : mask.broadcast(to: shape).detached()
        let out = Tensor.zipWith(self, m, op: "maskedFill") { x, k in k != 0 ? value : x }
        let src = self
        return out.recorded(self) { g in
            src.accumulateGrad(Tensor.zipWith(g, m, op: "maskedFill") { x, k in k != 0 ? 0 : x })
        }
    }

    /// Zero padding of the last two axes (top, bottom, left, right).
    public func padded2d(top: Int, bottom: Int, left: Int, right: Int) -> Tensor {
        precondition(rank >= 2, "padded2d: needs at least 2 axes, got \(shape)")
        let h = shape[rank - 2], w = shape[rank - 1]
        let outer = count / Swift.max(h * w, 1)
        let (nh, nw) = (h + top + bottom, w + left + right)
        var newShape = shape
        newShape[rank - 2] = nh; newShape[rank - 1] = nw
        var out = [Float](repeating: 0, count: outer * nh * nw)
        for b in 0..<outer { for y in 0..<h { for x in 0..<w { out[(b * nh + y + top) * nw + x + left] = data[(b * h + y) * w + x] } } }
        let result = Tensor(shape: newShape, data: out)
        let src = self
        return result.recorded(self) { g in
            var gx = [Float](repeating: 0, count: src.count)
            for b in 0..<outer { for y in 0..<h { for x in 0..<w { gx[(b * h + y) * w + x] = g.data[(b * nh + y + top) * nw + x + left] } } }
            src.accumulateGrad(gx)
        }
    }
}

/// Copies `src` (row-major, `shape`) into `dst` with axes reordered by `order` (dst.shape[i] = shape[order[i]]).
func permuteCopy(from src: [Float], shape: [Int], order: [Int], into dst: UnsafeMutableBufferPointer<Float>) {
    let r = shape.count
    var srcStrides = [Int](repeating: 1, count: r)
    for i in stride(from: r - 2, through: 0, by: -1) { srcStrides[i] = srcStrides[i + 1] * shape[i + 1] }
    let outShape = order.map { shape[$0] }
    let stridesInOut = order.map { srcStrides[$0] }
    src.withUnsafeBufferPointer { x in
        // Odometer over the output, innermost axis as a strided run.
        forEachRun(shape: outShape, aStrides: stridesInOut, bStrides: stridesInOut) { off, oa, _, n, s, _ in
            for j in 0..<n { dst[off + j] = x[oa + j * s] }
        }
    }
}
