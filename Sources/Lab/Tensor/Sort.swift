// Sorting along the last axis: sort, argsort, top-k. Each row of n elements is ordered independently;
// equal values keep their original order (the lower index first), so results are deterministic.
// NaN counts as larger than every number (last when ascending, first when descending), as in PyTorch.

extension Tensor {
    /// For each row of the last axis, the indices 0..<n in sorted order, truncated to the first `keep`.
    /// Returns them flat, row by row ([rows · keep]).
    private func sortedRowIndices(descending: Bool, keep: Int) -> [Int] {
        precondition(rank >= 1, "sort: a 0-d tensor has no last axis")
        let n = shape[rank - 1]
        let rows = n == 0 ? 0 : count / n
        var result = [Int](repeating: 0, count: rows * keep)
        data.withUnsafeBufferPointer { x in
            var order = [Int](repeating: 0, count: n)
            for r in 0..<rows {
                let row = x.baseAddress! + r * n
                for i in 0..<n { order[i] = i }
                // A strict total order on indices: by value (NaN largest), then by index.
                order.sort { i, j in
                    let (a, b) = (row[i], row[j])
                    if a.isNaN || b.isNaN {
                        if a.isNaN && b.isNaN { return i < j }
                        return descending ? a.isNaN : b.isNaN
                    }
                    if a != b { return descending ? a > b : a < b }
                    return i < j
                }
                for k in 0..<keep { result[r * keep + k] = order[k] }
            }
        }
        return result
    }

    /// The elements of each row picked by flat per-row `indices` ([rows · k]), shape [..., k], with the
    /// gradient routed back to the picked positions: dx[row, indices[row, j]] += g[row, j].
    private func pickAlongLastAxis(_ indices: [Int], keep k: Int) -> Tensor {
        let n = shape[rank - 1]
        let rows = indices.count / Swift.max(k, 1)
        var newShape = shape
        newShape[rank - 1] = k
        let out = Tensor(shape: newShape) { o in
            data.withUnsafeBufferPointer { x in
                for r in 0..<rows { for j in 0..<k { o[r * k + j] = x[r * n + indices[r * k + j]] } }
            }
        }
        let x = self
        return out.recorded(self) { g in
            let gx = x.ensureGrad()
            gx.data.withUnsafeMutableBufferPointer { gxb in
                g.data.withUnsafeBufferPointer { gb in
                    for r in 0..<rows { for j in 0..<k { gxb[r * n + indices[r * k + j]] += gb[r * k + j] } }
                }
            }
        }
    }

    /// Each row of the last axis sorted (ascending unless `descending`), with the original positions:
    /// values[..., j] = self[..., indices[..., j]]. Ties keep the lower index first. Differentiable in the values.
    ///
    ///     self: [..., n] → values: [..., n], indices: flat [Int] of the same count (row-major)
    public func sorted(descending: Bool = false) -> (values: Tensor, indices: [Int]) {
        let n = rank >= 1 ? shape[rank - 1] : 0
        let indices = sortedRowIndices(descending: descending, keep: n)
        return (pickAlongLastAxis(indices, keep: n), indices)
    }

    /// The positions that sort each row of the last axis (ascending unless `descending`; ties: lower index
    /// first), flat and row-major: [..., n] → [Int] of count elements.
    public func argsort(descending: Bool = false) -> [Int] {
        sortedRowIndices(descending: descending, keep: rank >= 1 ? shape[rank - 1] : 0)
    }

    /// The k largest (or, with `largest: false`, smallest) elements of each row of the last axis, in
    /// order (largest first, or smallest first), with their positions; ties keep the lower index first.
    /// Differentiable in the values.
    ///
    ///     self: [..., n] → values: [..., k], indices: flat [Int] of rows·k elements (row-major)
    public func topk(_ k: Int, largest: Bool = true) -> (values: Tensor, indices: [Int]) {
        precondition(rank >= 1 && k >= 0 && k <= shape[rank - 1],
                     "topk: k = \(k) out of range 0...\(rank >= 1 ? shape[rank - 1] : 0) for shape \(shape)")
        let indices = sortedRowIndices(descending: largest, keep: k)
        return (pickAlongLastAxis(indices, keep: k), indices)
    }
}
