/// Per-column standardisation fitted on training features and applied unchanged to any later split:
/// x' = (x − μ_j) / σ_j with μ_j, σ_j the mean and population standard deviation (divisor N, as
/// scikit-learn's StandardScaler) of column j of the training rows.
///
/// A column that is constant on the training rows (σ_j = 0, or σ_j ≤ 1e-10·|μ_j|, constant up to the
/// rounding of the mean) keeps σ_j = 1: it is only centred, so it becomes ≈ 0 instead of 0/0 or noise
/// blown up by a tiny divisor.
///
///     let standardizer = Standardizer(fitting: train)      // train: [N, D]
///     let (a, b) = (standardizer.transform(train), standardizer.transform(test))
public struct Standardizer: Sendable, Equatable {
    /// μ: [D]
    public let means: [Double]
    /// σ (1 for constant columns): [D]
    public let scales: [Double]

    public init(means: [Double], scales: [Double]) {
        precondition(means.count == scales.count, "Standardizer: \(means.count) means for \(scales.count) scales")
        self.means = means
        self.scales = scales
    }

    /// μ and σ of every column of `features` [N, D] (N ≥ 1).
    public init(fitting features: Matrix) {
        precondition(features.rows > 0, "Standardizer: cannot fit on 0 rows")
        let (n, d) = (features.rows, features.cols)
        var means = [Double](repeating: 0, count: d), squares = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { means[j] += features[i, j] } }
        for j in 0..<d { means[j] /= Double(n) }
        for i in 0..<n { for j in 0..<d { squares[j] += (features[i, j] - means[j]) * (features[i, j] - means[j]) } }
        let scales = (0..<d).map { j in
            let deviation = (squares[j] / Double(n)).squareRoot()
            return deviation == 0 || deviation <= 1e-10 * abs(means[j]) ? 1 : deviation
        }
        self.init(means: means, scales: scales)
    }

    /// (x − μ) / σ column by column. features: [N, D] -> [N, D]
    public func transform(_ features: Matrix) -> Matrix {
        precondition(features.cols == means.count, "Standardizer: \(features.cols) columns, fitted on \(means.count)")
        var out = features
        for i in 0..<features.rows { for j in 0..<features.cols { out[i, j] = (features[i, j] - means[j]) / scales[j] } }
        return out
    }
}
