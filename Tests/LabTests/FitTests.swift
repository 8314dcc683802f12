import Foundation
import Testing
@testable import Lab

@Suite struct FitTests {
    // MARK: - SPD solve

    @Test func solvePositiveDefiniteByHand() throws {
        // [[4, 2], [2, 3]]⁻¹ = [[3, −2], [−2, 4]] / 8, so b = [2, 1] gives x = [0.5, 0].
        let x2 = try solvePositiveDefinite(Matrix(rows: 2, cols: 2, data: [4, 2, 2, 3]), [2, 1])
        #expect(abs(x2[0] - 0.5) < 1e-15 && abs(x2[1]) < 1e-15)
        // The textbook 3 x 3 with L = [[2, 0, 0], [6, 1, 0], [−8, 5, 3]]; b = A·[1, −1, 2].
        let a = Matrix(rows: 3, cols: 3, data: [4, 12, -16, 12, 37, -43, -16, -43, 98])
        let x3 = try solvePositiveDefinite(a, [-40, -111, 223])
        for (got, want) in zip(x3, [1.0, -1, 2]) { #expect(abs(got - want) < 1e-12) }
        // Two right-hand sides at once: columns [1, −1, 2] and [0, 1, 0] (b = column 1 of A).
        let b = Matrix(rows: 3, cols: 2, data: [-40, 12, -111, 37, 223, -43])
        let x = try solvePositiveDefinite(a, b)
        for (got, want) in zip(x.data, [1.0, 0, -1, 1, 2, 0]) { #expect(abs(got - want) < 1e-12) }
    }

    @Test func solvePositiveDefiniteRefusesOtherMatrices() {
        // Symmetric but indefinite (eigenvalues 3 and −1).
        #expect(throws: LabError.self) { try solvePositiveDefinite(Matrix(rows: 2, cols: 2, data: [1, 2, 2, 1]), [1, 1]) }
        // Positive diagonal but not symmetric: dpotrf alone would read one triangle and answer.
        #expect(throws: LabError.self) { try solvePositiveDefinite(Matrix(rows: 2, cols: 2, data: [2, 1, 0, 2]), [1, 1]) }
        #expect(throws: LabError.self) { try solvePositiveDefinite(Matrix(rows: 2, cols: 2, data: [2, 0, 0, 2]), [1, 1, 1]) }
    }

    // MARK: - Standardizer

    @Test func standardizerCentresScalesAndKeepsConstantColumns() {
        let train = Matrix(rows: 3, cols: 3, data: [1, 5, 0.1,
                                                    3, 5, 0.1,
                                                    5, 5, 0.1])
        let standardizer = Standardizer(fitting: train)
        #expect(standardizer.means[0] == 3 && standardizer.means[1] == 5)
        #expect(abs(standardizer.scales[0] - (8.0 / 3).squareRoot()) < 1e-15)   // population std of 1, 3, 5
        #expect(standardizer.scales[1] == 1 && standardizer.scales[2] == 1)        // constant (0.1 up to rounding)
        let out = standardizer.transform(Matrix(rows: 1, cols: 3, data: [7, 6, 0.1]))
        #expect(abs(out[0, 0] - 4 / (8.0 / 3).squareRoot()) < 1e-12)
        #expect(out[0, 1] == 1 && abs(out[0, 2]) < 1e-15)
        let standardized = standardizer.transform(train)
        #expect(abs(Metrics.mean((0..<3).map { standardized[$0, 0] })) < 1e-15)
        #expect(abs(Metrics.std((0..<3).map { standardized[$0, 0] }, unbiased: false) - 1) < 1e-15)
    }

    // MARK: - Logistic regression

    @Test func logisticRegressionOneFeatureByHand() throws {
        // Unpenalised, two feature values: the fit reproduces each group's frequency, σ(b) = 1/2 at x = 0
        // and σ(w + b) = 3/4 at x = 1, so b = 0 and w = ln 3.
        let x = Matrix(rows: 6, cols: 1, data: [0, 0, 1, 1, 1, 1])
        let model = try LogisticRegression.fit(features: x, labels: [true, false, true, true, true, false], l2: 0)
        #expect(abs(model.intercept) < 1e-9 && abs(model.weights[0] - log(3)) < 1e-9)
        #expect(abs(model.probability([1]) - 0.75) < 1e-9)
        #expect(model.gradientNorm <= 1e-8 && model.iterations < 20)
    }

    /// Objective and gradient of Σ CE + (λ/2)‖w‖², written out independently of the library.
    private func penalisedLoss(_ x: Matrix, _ y: [Bool], _ w: [Double], _ b: Double, _ l2: Double) -> (value: Double, gradient: [Double]) {
        var value = l2 / 2 * w.reduce(0) { $0 + $1 * $1 }
        var gradient = w.map { l2 * $0 } + [0]
        for i in 0..<x.rows {
            var z = b
            for j in 0..<x.cols { z += x[i, j] * w[j] }
            let p = 1 / (1 + exp(-z)), target = y[i] ? 1.0 : 0.0
            value += max(z, 0) + log(1 + exp(-abs(z))) - target * z   // −log σ(z) or −log(1 − σ(z)), without overflow
            for j in 0..<x.cols { gradient[j] += (p - target) * x[i, j] }
            gradient[x.cols] += p - target
        }
        return (value, gradient)
    }

    /// Synthetic data: x ~ N(0, I), P(y | x) = σ(x·w* + b*).
    private func synthetic(rows: Int, trueWeights: [Double], intercept: Double, seed: UInt64) -> (Matrix, [Bool]) {
        var rng = RNG(seed: seed)
        let x = Matrix.gaussian(rows: rows, cols: trueWeights.count, rng: &rng)
        let y = (0..<rows).map { i in
            rng.bernoulli(1 / (1 + exp(-(intercept + (0..<trueWeights.count).reduce(0) { $0 + x[i, $1] * trueWeights[$1] }))))
        }
        return (x, y)
    }

    @Test func logisticRegressionMatchesGradientDescent() throws {
        let (x, y) = synthetic(rows: 300, trueWeights: [1.5, -2, 0.5], intercept: 0.3, seed: 21)
        let l2 = 1.0
        let model = try LogisticRegression.fit(features: x, labels: y, l2: l2)
        // Plain gradient descent from zero with step 1/L, L = ‖[X 1]‖²_F / 4 + λ ≥ the Hessian's largest eigenvalue.
        let lipschitz = (x.data.reduce(0) { $0 + $1 * $1 } + Double(x.rows)) / 4 + l2
        var w = [Double](repeating: 0, count: 3), b = 0.0
        for _ in 0..<20_000 {
            let g = penalisedLoss(x, y, w, b, l2).gradient
            for j in 0..<3 { w[j] -= g[j] / lipschitz }
            b -= g[3] / lipschitz
        }
        #expect(penalisedLoss(x, y, w, b, l2).gradient.allSatisfy { abs($0) < 1e-9 })
        for j in 0..<3 { #expect(abs(model.weights[j] - w[j]) < 1e-8) }
        #expect(abs(model.intercept - b) < 1e-8)
    }

    @Test func logisticRegressionOnNearlySeparableData() throws {
        // Steep true weights: almost every label is determined by the side of the plane; a small penalty
        // keeps the optimum finite.
        let (x, y) = synthetic(rows: 500, trueWeights: [12, -8, 0, 4, 0], intercept: -1, seed: 8)
        let l2 = 1e-3
        let model = try LogisticRegression.fit(features: x, labels: y, l2: l2)
        let (value, gradient) = penalisedLoss(x, y, model.weights, model.intercept, l2)
        #expect(gradient.allSatisfy { abs($0) < 1e-6 })
        // A minimum: any small move of one coordinate raises the objective.
        for j in 0..<5 {
            for delta in [-1e-3, 1e-3] {
                var moved = model.weights
                moved[j] += delta
                #expect(penalisedLoss(x, y, moved, model.intercept, l2).value > value)
            }
        }
        // One class alone has no finite intercept; a negative penalty is no penalty.
        let oneFeature = Matrix(rows: 4, cols: 1, data: [-2, -1, 1, 2])
        #expect(throws: LabError.self) { try LogisticRegression.fit(features: oneFeature, labels: [true, true, true, true], l2: 1) }
        #expect(throws: LabError.self) { try LogisticRegression.fit(features: oneFeature, labels: [false, true, false, true], l2: -1) }
    }

    // MARK: - Golden section

    @Test func goldenSectionFindsTheMinimumOfAParabola() {
        let minimum = Minimizer.goldenSection(over: 0...5, tolerance: 1e-9) { ($0 - 1.3) * ($0 - 1.3) }
        #expect(abs(minimum.argument - 1.3) < 1e-8 && minimum.value < 1e-16)
        #expect(minimum.evaluations < 60)
        // Minimum at the left end of the interval.
        #expect(abs(Minimizer.goldenSection(over: 0...2) { ($0 + 1) * ($0 + 1) }.argument) < 1e-7)
    }

    @Test func goldenSectionRecoversATemperature() {
        // Labels drawn from softmax(z / T*) with T* = 2; minimising the NLL of softmax(z / T) over log T
        // (as temperature scaling does) recovers T* up to sampling noise.
        var rng = RNG(seed: 17)
        let (rows, classes, trueTemperature) = (20_000, 5, 2.0)
        let logits = (0..<rows).map { _ in (0..<classes).map { _ in 3 * rng.normal() } }
        let labels = logits.map { z in rng.categorical(z.map { exp($0 / trueTemperature) }) }
        func negativeLogLikelihood(_ temperature: Double) -> Double {
            zip(logits, labels).reduce(0) { total, sample in
                let scaled = sample.0.map { $0 / temperature }, top = scaled.max()!
                return total + top + log(scaled.reduce(0) { $0 + exp($1 - top) }) - scaled[sample.1]
            }
        }
        let fitted = exp(Minimizer.goldenSection(over: log(0.05)...log(20), tolerance: 1e-6) { negativeLogLikelihood(exp($0)) }.argument)
        #expect(abs(fitted - trueTemperature) < 0.08, "fitted T = \(fitted)")
    }

    // MARK: - Covariance

    @Test func empiricalCovarianceByHand() {
        // Rows (1, 2), (3, 6): means (2, 4); deviations ±(1, 2); S = [[1, 2], [2, 4]] (divisor N).
        let (means, covariance) = Covariance.empirical(Matrix(rows: 2, cols: 2, data: [1, 2, 3, 6]))
        #expect(means == [2, 4] && covariance.data == [1, 2, 2, 4])
    }

    @Test func ledoitWolfMatchesItsDefinition() throws {
        var rng = RNG(seed: 12)
        for (n, d) in [(40, 5), (10, 30)] {
            var x = Matrix.gaussian(rows: n, cols: d, rng: &rng)
            for k in 0..<n { x[k, 0] *= 4; x[k, 1] += 0.5 * x[k, 0] }   // unequal variances, a correlation
            let (means, s) = Covariance.empirical(x)
            // The 2004 paper's quantities, sample by sample.
            let m = (0..<d).reduce(0) { $0 + s[$1, $1] } / Double(d)
            var dispersion = 0.0
            for i in 0..<d { for j in 0..<d { dispersion += pow(s[i, j] - (i == j ? m : 0), 2) } }
            dispersion /= Double(d)
            var spread = 0.0
            for k in 0..<n {
                for i in 0..<d { for j in 0..<d { spread += pow((x[k, i] - means[i]) * (x[k, j] - means[j]) - s[i, j], 2) } }
            }
            spread /= Double(n * n * d)
            let shrinkage = min(spread, dispersion) / dispersion
            let estimate = Covariance.ledoitWolf(x)
            #expect(abs(estimate.shrinkage - shrinkage) < 1e-12, "n \(n), d \(d)")
            #expect(estimate.shrinkage > 0 && estimate.shrinkage <= 1)
            for i in 0..<d {
                for j in 0..<d {
                    #expect(abs(estimate.covariance[i, j] - ((1 - shrinkage) * s[i, j] + (i == j ? shrinkage * m : 0))) < 1e-12)
                }
            }
            // More features than samples: S is singular, the shrunk estimate still solves.
            _ = try solvePositiveDefinite(estimate.covariance, [Double](repeating: 1, count: d))
        }
    }

    // MARK: - Mahalanobis classifier

    @Test func mahalanobisOneFeatureByHand() throws {
        // Class 0 at {0, 2} (mean 1), class 1 at {4, 6} (mean 5); pooled within-class variance 1, and with one
        // feature Ledoit-Wolf cannot shrink (ρ = 0), so Σ = 1: d_0² = (x − 1)², d_1² = (x − 5)².
        let model = try MahalanobisClassifier(features: Matrix(rows: 4, cols: 1, data: [0, 2, 4, 6]), labels: [0, 0, 1, 1], classes: 2)
        #expect(model.means == [[1], [5]] && model.shrinkage == 0)
        let x = Matrix(rows: 3, cols: 1, data: [3, 5, 0])
        #expect(model.squaredDistances(x).data == [4, 4, 16, 0, 1, 25])
        // d_0² − d_1² = 8x − 24.
        #expect(model.binaryScores(x) == [0, 16, -24])
    }

    @Test func mahalanobisUsesThePooledShrunkCovariance() throws {
        var rng = RNG(seed: 3)
        var x = Matrix.gaussian(rows: 30, cols: 2, rng: &rng)
        let labels = (0..<30).map { $0 % 3 == 0 ? 1 : 0 }
        for i in 0..<30 { x[i, 1] += 0.6 * x[i, 0]; if labels[i] == 1 { x[i, 0] += 3 } }
        let model = try MahalanobisClassifier(features: x, labels: labels, classes: 2)
        // The same estimate by its definition: class means, rows centred by their class mean, Ledoit-Wolf,
        // and the 2 x 2 inverse [[c, −b], [−b, a]] / (ac − b²).
        var centred = x
        for k in 0..<2 {
            let rows = (0..<30).filter { labels[$0] == k }
            for j in 0..<2 {
                let mean = rows.reduce(0) { $0 + x[$1, j] } / Double(rows.count)
                #expect(abs(model.means[k][j] - mean) < 1e-12)
                for i in rows { centred[i, j] -= mean }
            }
        }
        let sigma = Covariance.ledoitWolf(centred).covariance
        let (a, b, c) = (sigma[0, 0], sigma[0, 1], sigma[1, 1])
        let determinant = a * c - b * b
        let probe = Matrix(rows: 2, cols: 2, data: [0.5, -1, 2, 1.5])
        let distances = model.squaredDistances(probe)
        for i in 0..<2 {
            for k in 0..<2 {
                let (u, v) = (probe[i, 0] - model.means[k][0], probe[i, 1] - model.means[k][1])
                let expected = (c * u * u - 2 * b * u * v + a * v * v) / determinant
                #expect(abs(distances[i, k] - expected) < 1e-10)
            }
            #expect(abs(model.binaryScores(probe)[i] - (distances[i, 0] - distances[i, 1])) < 1e-12)
        }
    }

    @Test func mahalanobisRefusesBadInput() throws {
        let x = Matrix(rows: 2, cols: 1, data: [0, 1])
        #expect(throws: LabError.self) { try MahalanobisClassifier(features: x, labels: [0], classes: 2) }
        #expect(throws: LabError.self) { try MahalanobisClassifier(features: x, labels: [0, 2], classes: 2) }
        #expect(throws: LabError.self) { try MahalanobisClassifier(features: x, labels: [0, 0], classes: 2) }
        // Every row on its class mean: zero scatter, Σ singular.
        #expect(throws: LabError.self) { try MahalanobisClassifier(features: x, labels: [0, 1], classes: 2) }
        #expect(throws: LabError.self) { try MahalanobisClassifier(features: x, labels: [0, 1], classes: 2, ridge: -1) }
        // A ridge makes it invertible: Σ = 0.5·I, so d_k² = 2·(x − μ_k)² with μ = (0, 1).
        let ridged = try MahalanobisClassifier(features: x, labels: [0, 1], classes: 2, ridge: 0.5)
        for (got, want) in zip(ridged.squaredDistances(Matrix(rows: 1, cols: 1, data: [2])).data, [8.0, 2]) { #expect(abs(got - want) < 1e-12) }
    }
}
