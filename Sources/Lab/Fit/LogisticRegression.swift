import CBLAS
import Foundation

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
    ///   - l2: λ ≥ 0, the weight penalty. With λ = 0 and separable classes there is no finite optimum: the
    ///     weights grow until the vanishing gradient passes the tolerance, so use λ > 0 there.
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
            + "raise maxIterations or tolerance")
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
