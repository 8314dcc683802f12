/// Covariance estimates of feature rows, in Float64.
public enum Covariance {
    /// Column means μ: [D] and the maximum-likelihood covariance S = (1/N)·Σₖ (xₖ − μ)(xₖ − μ)ᵀ: [D, D]
    /// of the rows of x: [N, D] (N ≥ 1).
    public static func empirical(_ x: Matrix) -> (means: [Double], covariance: Matrix) {
        precondition(x.rows > 0, "Covariance.empirical: no rows")
        let (n, d) = (x.rows, x.cols)
        var means = [Double](repeating: 0, count: d)
        for k in 0..<n { for j in 0..<d { means[j] += x[k, j] } }
        for j in 0..<d { means[j] /= Double(n) }
        var centred = x
        for k in 0..<n { for j in 0..<d { centred[k, j] -= means[j] } }
        var covariance = centred.gram(rowSide: false)
        for i in 0..<covariance.data.count { covariance.data[i] /= Double(n) }
        return (means, covariance)
    }

    /// Ledoit-Wolf shrinkage (J. Multivariate Anal. 88, 2004): Σ = (1 − ρ)·S + ρ·m·I, with S the
    /// empirical covariance, m = tr(S)/D, and ρ = min(b̄², d²)/d² where d² = ‖S − m·I‖²_F / D and
    /// b̄² = (1/N²)·Σₖ ‖x̃ₖx̃ₖᵀ − S‖²_F / D over the centred rows x̃ₖ (computed as
    /// (Σₖ ‖x̃ₖ‖⁴/N − ‖S‖²_F)/(N·D)); ρ = 0 when d² = 0. The same estimate as scikit-learn's `ledoit_wolf`.
    /// Σ is positive definite whenever ρ > 0 and m > 0, so it can be inverted (Mahalanobis distances)
    /// even when D > N. x: [N, D] -> (means: [D], covariance: [D, D], shrinkage ρ ∈ [0, 1])
    public static func ledoitWolf(_ x: Matrix) -> (means: [Double], covariance: Matrix, shrinkage: Double) {
        let (means, sample) = empirical(x)
        let (n, d) = (Double(x.rows), x.cols)
        guard d > 0 else { return (means, sample, 0) }
        let target = (0..<d).reduce(0) { $0 + sample[$1, $1] } / Double(d)
        let squaredNorm = sample.data.reduce(0) { $0 + $1 * $1 }
        var fourthPowers = 0.0
        for k in 0..<x.rows {
            var squares = 0.0
            for j in 0..<d { squares += (x[k, j] - means[j]) * (x[k, j] - means[j]) }
            fourthPowers += squares * squares
        }
        // ‖S − mI‖²_F = ‖S‖²_F − 2m·tr(S) + D·m² = ‖S‖²_F − D·m².
        let dispersion = (squaredNorm - Double(d) * target * target) / Double(d)
        let spread = min((fourthPowers / n - squaredNorm) / (n * Double(d)), dispersion)
        let shrinkage = dispersion <= 0 ? 0 : max(0, spread) / dispersion
        var covariance = sample
        for i in 0..<covariance.data.count { covariance.data[i] *= 1 - shrinkage }
        for j in 0..<d { covariance[j, j] += shrinkage * target }
        return (means, covariance, shrinkage)
    }
}
