import CBLAS

/// Class prototypes with one shared covariance (linear discriminant analysis read as distances), in Float64:
/// class k has mean μ_k, all classes share Σ, and a row x is scored by its squared Mahalanobis distances
///
///     d_k(x)² = (x − μ_k)ᵀ Σ⁻¹ (x − μ_k)
///
/// Σ is the Ledoit-Wolf estimate (`Covariance.ledoitWolf`) of the pooled within-class scatter (every training row
/// minus its own class mean), plus `ridge`·I: positive definite (and invertible) even with more features than rows,
/// and with ridge > 0 also when some features do not vary at all (e.g. a state that is the same for every input).
/// For two classes, d_0² − d_1² = 2·xᵀΣ⁻¹(μ_1 − μ_0) + μ_0ᵀΣ⁻¹μ_0 − μ_1ᵀΣ⁻¹μ_1 is linear in x; `binaryScores`
/// returns it (positive = closer to class 1).
///
///     let model = try MahalanobisClassifier(features: x, labels: y, classes: 2)   // x: [N, D], y in 0..<2
///     let scores = model.binaryScores(xTest)                                      // [N]; > 0 -> class 1
public struct MahalanobisClassifier: Sendable, Equatable {
    /// μ_k: [K][D]
    public let means: [[Double]]
    /// Σ⁻¹: [D, D]
    public let precision: Matrix
    /// The Ledoit-Wolf shrinkage ρ of Σ.
    public let shrinkage: Double

    /// Fits the class means and the shared covariance on features [N, D] with labels [N] in 0..<classes.
    /// Throws when shapes disagree, a label is out of range, a class has no row, ridge < 0, or Σ is singular
    /// (e.g. ridge 0 and all rows equal their class means).
    public init(features: Matrix, labels: [Int], classes: Int, ridge: Double = 0) throws {
        let op = "MahalanobisClassifier"
        let (n, d) = (features.rows, features.cols)
        guard labels.count == n else {
            throw LabError.shapeMismatch(op: op, shapes: [[n, d], [labels.count]], reason: "needs one label per feature row")
        }
        guard ridge >= 0 else { throw LabError.invalidArgument("\(op): ridge \(ridge) must be >= 0") }
        if let bad = labels.first(where: { !(0..<classes).contains($0) }) {
            throw LabError.invalidArgument("\(op): label \(bad) is outside 0..<\(classes)")
        }
        var counts = [Int](repeating: 0, count: classes)
        var means = [[Double]](repeating: [Double](repeating: 0, count: d), count: classes)
        for i in 0..<n {
            counts[labels[i]] += 1
            for j in 0..<d { means[labels[i]][j] += features[i, j] }
        }
        if let empty = counts.firstIndex(of: 0) {
            throw LabError.invalidArgument("\(op): class \(empty) has no training row (\(counts) rows per class)")
        }
        for k in 0..<classes { for j in 0..<d { means[k][j] /= Double(counts[k]) } }
        var centred = features
        for i in 0..<n { for j in 0..<d { centred[i, j] -= means[labels[i]][j] } }
        var (_, covariance, shrinkage) = Covariance.ledoitWolf(centred)
        for j in 0..<d { covariance[j, j] += ridge }
        self.means = means
        self.shrinkage = shrinkage
        precision = try solvePositiveDefinite(covariance, Matrix.identity(d))
    }

    /// d_k(x)² for every row and class. features: [N, D] -> [N, K] (row-major, class fastest)
    public func squaredDistances(_ features: Matrix) -> Matrix {
        let (n, d) = (features.rows, features.cols)
        precondition(d == precision.rows, "MahalanobisClassifier: \(d) features, fitted on \(precision.rows)")
        var distances = Matrix(rows: n, cols: means.count)
        for (k, mean) in means.enumerated() {
            var centred = features
            for i in 0..<n { for j in 0..<d { centred[i, j] -= mean[j] } }
            let whitened = centred * precision
            for i in 0..<n {
                var sum = 0.0
                for j in 0..<d { sum += whitened[i, j] * centred[i, j] }
                distances[i, k] = sum
            }
        }
        return distances
    }

    /// d_0(x)² − d_1(x)² per row (two classes only): positive when x is closer to class 1. features: [N, D] -> [N]
    public func binaryScores(_ features: Matrix) -> [Double] {
        precondition(means.count == 2, "MahalanobisClassifier.binaryScores: needs 2 classes, has \(means.count)")
        let distances = squaredDistances(features)
        return (0..<features.rows).map { distances[$0, 0] - distances[$0, 1] }
    }
}
