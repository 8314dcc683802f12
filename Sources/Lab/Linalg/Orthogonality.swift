extension Matrix {
    /// Orthogonality error on the short side: e = max |A·Aᵀ − I| if rows <= cols, else max |Aᵀ·A − I|,
    /// after dividing A by `gain` (so σ·(orthogonal) has error 0). Computed in Float64.
    public func orthogonalityError(gain: Double = 1) -> Double {
        let g = gram(rowSide: rows <= cols)
        let scale = 1 / (gain * gain)
        var e = 0.0
        for i in 0..<g.rows {
            for j in 0..<g.cols { e = max(e, abs(g[i, j] * scale - (i == j ? 1 : 0))) }
        }
        return e
    }
}

/// Orthogonality error of a stored Float32 weight (rank >= 2, flattened to [shape[0], rest]), measured in
/// Float64 from the Float32 values: max |W·Wᵀ/σ² − I| on the short side. This is the quantity the
/// exact-orthogonal-init claims bound (<= 1e-5).
public func orthogonalityError(_ weight: Tensor, gain: Double = 1) throws -> Double {
    try Matrix(weight).orthogonalityError(gain: gain)
}

/// The fraction of entries that are exactly non-zero (1 for an empty tensor).
public func nonZeroDensity(_ t: Tensor) -> Double {
    if t.count == 0 { return 1 }
    var n = 0
    for v in t.data where v != 0 { n += 1 }
    return Double(n) / Double(t.count)
}
