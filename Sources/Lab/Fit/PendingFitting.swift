// TEMPORARY: the fitting kit (Minimizer, Standardizer, LogisticRegression, solvePositiveDefinite) as it stands in the
// stats helper's branch, until it lands on main; deleted by the merge that brings it.
import CBLAS
import Foundation
/// One-dimensional minimisers for small fits (a temperature, a scale, a bias).
public enum Minimizer {
    /// Where a minimiser stopped.
    public struct Minimum: Sendable, Equatable {
        public let argument: Double
        public let value: Double
        /// Calls of f.
        public let evaluations: Int
    }

    /// Golden-section search for the minimum of f on [a, b] (Kiefer 1953): the bracket shrinks by
    /// 1/φ ≈ 0.618 per evaluation, keeping the interior point with the smaller value, until it is at most
    /// `tolerance` wide; returns the better of the two final interior points. For a unimodal f this is the
    /// minimum to within `tolerance` in x (a minimum at an end is approached to within `tolerance`);
    /// otherwise some local minimum. A NaN value counts as larger than any number.
    ///
    ///     let t = Minimizer.goldenSection(over: log(0.05)...log(20)) { nll(exp($0)) }.argument
    public static func goldenSection(over interval: ClosedRange<Double>, tolerance: Double = 1e-8,
                                     _ f: (Double) throws -> Double) rethrows -> Minimum {
        precondition(tolerance > 0, "goldenSection: tolerance \(tolerance) must be > 0")
        let shrink = (5.0.squareRoot() - 1) / 2
        var (a, b) = (interval.lowerBound, interval.upperBound)
        var c = b - shrink * (b - a), d = a + shrink * (b - a)
        var fc = try f(c), fd = try f(d), evaluations = 2
        // "Smaller" with NaN losing to every number.
        func below(_ u: Double, _ v: Double) -> Bool { !u.isNaN && (v.isNaN || u < v) }
        while b - a > tolerance {
            if below(fc, fd) {
                (b, d, fd) = (d, c, fc)
                c = b - shrink * (b - a)
                fc = try f(c)
            } else {
                (a, c, fc) = (c, d, fd)
                d = a + shrink * (b - a)
                fd = try f(d)
            }
            evaluations += 1
        }
        return below(fd, fc) ? Minimum(argument: d, value: fd, evaluations: evaluations)
                             : Minimum(argument: c, value: fc, evaluations: evaluations)
    }
}
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

/// Binary logistic regression with an L2 penalty on the weights (not on the intercept), fitted in Float64
/// by Newton's method (iteratively reweighted least squares) with step halving.
///
/// The objective is a **sum** over the N samples (scikit-learn's convention, C = 1/λ):
///
///     L(w, b) = Σᵢ [softplus(zᵢ) − yᵢ·zᵢ] + (λ/2)·‖w‖²,   zᵢ = xᵢ·w + b,   P(y = 1 | x) = σ(z)
///
/// Each Newton step solves H·δ = ∇L with ∇L = [Xᵀ(p − y) + λw; Σ(p − y)] and
/// H = [XᵀSX + λI, XᵀS1; 1ᵀSX, Σsᵢ], S = diag(pᵢ(1 − pᵢ)), by a Cholesky solve; the step is halved
/// until L does not increase. It stops when ‖∇L‖₂ ≤ `tolerance`.
///
///     let model = try LogisticRegression.fit(features: x, labels: y, l2: 1)   // x: [N, D]
///     let p = model.probabilities(xTest)                                     // [N]
public struct LogisticRegression: Sendable, Equatable {
    /// w: [D]
    public var weights: [Double]
    /// b (not penalised)
    public var intercept: Double
    /// Newton steps the fit took (0 for a model built by hand).
    public var iterations = 0
    /// ‖∇L‖₂ at the returned parameters.
    public var gradientNorm = 0.0

    public init(weights: [Double], intercept: Double) {
        self.weights = weights
        self.intercept = intercept
    }

    /// Fits w and b on features [N, D] and labels [N] (true = positive class).
    ///
    /// - Parameters:
    ///   - l2: λ ≥ 0, the weight penalty. λ = 0 on separable classes has no finite optimum and fails.
    ///   - tolerance: stop when ‖∇L‖₂ ≤ tolerance (L is a sum over samples, so ∇L grows with N).
    ///   - maxIterations: Newton steps before giving up with an error.
    /// - Throws: `LabError` when the shapes disagree, both classes are not present (the unpenalised
    ///   intercept would diverge), or the fit does not converge.
    public static func fit(features: Matrix, labels: [Bool], l2: Double, tolerance: Double = 1e-8,
                           maxIterations: Int = 100) throws -> LogisticRegression {
        let op = "LogisticRegression.fit"
        let (n, d) = (features.rows, features.cols)
        guard labels.count == n else {
            throw LabError.shapeMismatch(op: op, shapes: [[n, d], [labels.count]], reason: "needs one label per feature row")
        }
        guard l2 >= 0 else { throw LabError.invalidArgument("\(op): l2 = \(l2) must be >= 0") }
        let positives = labels.filter { $0 }.count
        guard positives > 0 && positives < n else {
            throw LabError.invalidArgument("\(op): needs both classes, got \(positives) positives of \(n) labels")
        }
        let targets = labels.map { $0 ? 1.0 : 0.0 }
        // Start at w = 0 and the intercept of the class frequency, the optimum when the features carry nothing.
        let frequency = Double(positives) / Double(n)
        var model = LogisticRegression(weights: [Double](repeating: 0, count: d), intercept: log(frequency / (1 - frequency)))
        var logits = model.logits(features)
        var objective = model.objective(logits: logits, targets: targets, l2: l2)
        for iteration in 0...maxIterations {
            let probabilities = logits.map(Self.sigmoid)
            let gradient = model.gradient(features: features, residuals: zip(probabilities, targets).map { $0 - $1 }, l2: l2)
            model.gradientNorm = gradient.reduce(0) { $0 + $1 * $1 }.squareRoot()
            model.iterations = iteration
            if model.gradientNorm <= tolerance { return model }
            guard iteration < maxIterations else { break }
            let hessian = hessian(features: features, weights: probabilities.map { $0 * (1 - $0) }, l2: l2)
            let step = try solvePositiveDefinite(hessian, gradient)
            // Damped step: halve until the objective does not increase beyond rounding.
            var scale = 1.0, accepted = false
            while !accepted && scale > 1e-10 {
                var candidate = model
                for j in 0..<d { candidate.weights[j] -= scale * step[j] }
                candidate.intercept -= scale * step[d]
                let candidateLogits = candidate.logits(features)
                let candidateObjective = candidate.objective(logits: candidateLogits, targets: targets, l2: l2)
                if candidateObjective <= objective + 1e-12 * abs(objective) {
                    (model, logits, objective, accepted) = (candidate, candidateLogits, candidateObjective, true)
                } else {
                    scale /= 2
                }
            }
            guard accepted else { break }
        }
        throw LabError.invalidArgument("\(op): Newton's method stopped at ‖∇L‖ = \(model.gradientNorm) > tolerance \(tolerance) "
            + "after \(model.iterations) of \(maxIterations) steps (N = \(n), D = \(d), λ = \(l2)); "
            + "raise maxIterations or tolerance, or use l2 > 0 if the classes are separable")
    }

    /// Fits on a Float32 feature tensor [N, D] (converted to Float64); see `fit(features: Matrix, ...)`.
    public static func fit(features: Tensor, labels: [Bool], l2: Double, tolerance: Double = 1e-8,
                           maxIterations: Int = 100) throws -> LogisticRegression {
        try fit(features: Matrix(features), labels: labels, l2: l2, tolerance: tolerance, maxIterations: maxIterations)
    }

    /// z = X·w + b. features: [N, D] -> [N]
    public func logits(_ features: Matrix) -> [Double] {
        precondition(features.cols == weights.count, "LogisticRegression: \(features.cols) features for \(weights.count) weights")
        var z = [Double](repeating: intercept, count: features.rows)
        guard features.rows > 0, features.cols > 0 else { return z }
        Parallel.prepareBLAS()
        cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(features.rows), Int32(features.cols), 1, features.data,
                    Int32(features.cols), weights, 1, 1, &z, 1)
        return z
    }

    /// P(y = 1 | x) = σ(x·w + b) for every row. features: [N, D] -> [N]
    public func probabilities(_ features: Matrix) -> [Double] { logits(features).map(Self.sigmoid) }

    /// P(y = 1 | x) for one feature row x: [D].
    public func probability(_ row: [Double]) -> Double { probabilities(Matrix(rows: 1, cols: row.count, data: row))[0] }

    /// σ(z) = 1 / (1 + e^−z), evaluated without overflow on either side.
    public static func sigmoid(_ z: Double) -> Double {
        z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z))
    }

    /// L(w, b) from the logits z; softplus(z) = max(z, 0) + log(1 + e^−|z|).
    private func objective(logits: [Double], targets: [Double], l2: Double) -> Double {
        var total = 0.0
        for (z, y) in zip(logits, targets) { total += max(z, 0) + log1p(exp(-abs(z))) - y * z }
        return total + l2 / 2 * weights.reduce(0) { $0 + $1 * $1 }
    }

    /// ∇L = [Xᵀr + λw; Σr] with r = p − y: [D + 1].
    private func gradient(features: Matrix, residuals: [Double], l2: Double) -> [Double] {
        var gradient = weights.map { l2 * $0 } + [residuals.reduce(0, +)]
        if features.rows > 0 && features.cols > 0 {
            cblas_dgemv(CblasRowMajor, CblasTrans, Int32(features.rows), Int32(features.cols), 1, features.data,
                        Int32(features.cols), residuals, 1, 1, &gradient, 1)
        }
        return gradient
    }

    /// H = [X 1]ᵀ S [X 1] + λ·diag(1, …, 1, 0): [D + 1, D + 1], as one rank-N update of √s-scaled rows.
    private static func hessian(features: Matrix, weights: [Double], l2: Double) -> Matrix {
        let (n, d) = (features.rows, features.cols)
        var scaled = Matrix(rows: n, cols: d + 1)
        for i in 0..<n {
            let root = weights[i].squareRoot()
            for j in 0..<d { scaled[i, j] = root * features[i, j] }
            scaled[i, d] = root
        }
        var hessian = scaled.gram(rowSide: false)
        for j in 0..<d { hessian[j, j] += l2 }
        return hessian
    }
}

public func solvePositiveDefinite(_ a: Matrix, _ b: [Double]) throws -> [Double] {
    let l = try cholesky(a)
    let n = a.rows
    var x = b
    l.data.withUnsafeBufferPointer { factor in
        x.withUnsafeMutableBufferPointer { solution in
            for transpose in [CblasNoTrans, CblasTrans] {
                cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, transpose, CblasNonUnit, Int32(n), 1, 1,
                            factor.baseAddress, Int32(n), solution.baseAddress, 1)
            }
        }
    }
    return x
}
