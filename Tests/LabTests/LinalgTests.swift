import Testing
@testable import Lab

/// max |a − b| over entries of two equally shaped matrices.
private func maxDifference(_ a: Matrix, _ b: Matrix) -> Double {
    precondition(a.rows == b.rows && a.cols == b.cols)
    return zip(a.data, b.data).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

@Suite struct LinalgTests {
    @Test func columnMajorConversionIsTheTranspose() throws {
        // [[1, 2, 3], [4, 5, 6]] row-major; LAPACK reads columns: (1, 4), (2, 5), (3, 6).
        let a = Matrix(rows: 2, cols: 3, data: [1, 2, 3, 4, 5, 6])
        #expect(a.columnMajor() == [1, 4, 2, 5, 3, 6])
        #expect(Matrix(rows: 2, cols: 3, columnMajor: a.columnMajor()) == a)
        #expect(a.transposed() == Matrix(rows: 3, cols: 2, data: [1, 4, 2, 5, 3, 6]))
        #expect(a[1, 0] == 4)
        // Tensor round trip (Float32) and flattening of a rank-4 kernel to [cOut, cIn·k²].
        let t = a.tensor()
        #expect(t.shape == [2, 3] && t.data == [1, 2, 3, 4, 5, 6])
        #expect(try Matrix(t) == a)
        let kernel = Tensor(shape: [2, 1, 2, 2], data: [1, 2, 3, 4, 5, 6, 7, 8])
        let flat = try Matrix(kernel)
        #expect(flat.rows == 2 && flat.cols == 4 && flat[1, 0] == 5)
        #expect(throws: LabError.self) { try Matrix(Tensor([1, 2, 3])) }
    }

    @Test func productAndGram() {
        let a = Matrix(rows: 2, cols: 3, data: [1, 2, 3, 4, 5, 6])
        let b = Matrix(rows: 3, cols: 2, data: [7, 8, 9, 10, 11, 12])
        #expect(a * b == Matrix(rows: 2, cols: 2, data: [58, 64, 139, 154]))
        #expect(a.gram() == Matrix(rows: 2, cols: 2, data: [14, 32, 32, 77]))
        #expect(a.gram(rowSide: false) == a.transposed() * a)
    }

    @Test(arguments: [(7, 4), (4, 7), (6, 6), (1, 5)])
    func qrReconstructsAndQIsOrthogonal(rows: Int, cols: Int) throws {
        var rng = RNG(seed: 11)
        let a = Matrix.gaussian(rows: rows, cols: cols, rng: &rng)
        let (q, r) = try qr(a)
        let k = min(rows, cols)
        #expect(q.rows == rows && q.cols == k && r.rows == k && r.cols == cols)
        #expect(maxDifference(q * r, a) < 1e-12)
        #expect(maxDifference(q.gram(rowSide: false), Matrix.identity(k)) < 1e-13)
        for i in 0..<k { for j in 0..<i { #expect(r[i, j] == 0) } }
    }

    @Test func qrOfATriangularMatrixIsItself() throws {
        // A = [[2, 1], [0, 3]] is already Q·R with Q = ±I; |R| must equal |A|.
        let (q, r) = try qr(Matrix(rows: 2, cols: 2, data: [2, 1, 0, 3]))
        #expect(abs(abs(r[0, 0]) - 2) < 1e-14 && abs(abs(r[0, 1]) - 1) < 1e-14 && abs(abs(r[1, 1]) - 3) < 1e-14)
        #expect(abs(abs(q[0, 0]) - 1) < 1e-14 && abs(q[1, 0]) < 1e-14)
    }

    @Test func symmetricEigenOfKnownMatrices() throws {
        // [[2, 1], [1, 2]]: eigenvalues 1 and 3 with eigenvectors (1, −1)/√2 and (1, 1)/√2.
        let (values, vectors) = try symmetricEigen(Matrix(rows: 2, cols: 2, data: [2, 1, 1, 2]))
        #expect(abs(values[0] - 1) < 1e-14 && abs(values[1] - 3) < 1e-14)
        let h = 0.5.squareRoot()
        #expect(abs(abs(vectors[0, 0]) - h) < 1e-14 && abs(vectors[0, 0] + vectors[1, 0]) < 1e-14)
        #expect(abs(vectors[0, 1] - vectors[1, 1]) < 1e-14)
        // The eigenvector of the largest eigenvalue of a non-diagonal 3x3 sits in column 2 (column-major output).
        // [[2, 0, 0], [0, 3, 4], [0, 4, 9]] has eigenvalues 1, 2, 11; λ = 11 has eigenvector (0, 1, 2)/√5.
        let b = Matrix(rows: 3, cols: 3, data: [2, 0, 0, 0, 3, 4, 0, 4, 9])
        let (bValues, bVectors) = try symmetricEigen(b)
        #expect(zip(bValues, [1.0, 2, 11]).allSatisfy { abs($0 - $1) < 1e-12 })
        let v = [bVectors[0, 2], bVectors[1, 2], bVectors[2, 2]]
        #expect(abs(v[0]) < 1e-12 && abs(abs(v[1]) - 1 / 5.0.squareRoot()) < 1e-12 && abs(v[2] - 2 * v[1]) < 1e-12)
        // A random symmetric matrix: A·V = V·diag(λ), V orthogonal, values ascending.
        var rng = RNG(seed: 5)
        let g = Matrix.gaussian(rows: 10, cols: 10, rng: &rng)
        let gT = g.transposed()
        var s = Matrix(rows: 10, cols: 10)
        for k in 0..<100 { s.data[k] = g.data[k] + gT.data[k] }
        let (sv, sV) = try symmetricEigen(s)
        var vLambda = sV
        for i in 0..<10 {
            for j in 0..<10 { vLambda[i, j] = sV[i, j] * sv[j] }
        }
        #expect(maxDifference(s * sV, vLambda) < 1e-12)
        #expect(maxDifference(sV.gram(rowSide: false), Matrix.identity(10)) < 1e-13)
        #expect(zip(sv, sv.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(throws: LabError.self) { try symmetricEigen(Matrix(rows: 2, cols: 3)) }
    }

    @Test func singularValuesOfKnownMatrices() throws {
        // A rectangular diagonal: |diagonal| sorted descending.
        var d = Matrix(rows: 3, cols: 4)
        d[0, 0] = 3; d[1, 1] = -5; d[2, 2] = 1
        #expect(zip(try singularValues(d), [5.0, 3, 1]).allSatisfy { abs($0 - $1) < 1e-13 })
        // [[3, 0], [4, 5]]: AᵀA = [[25, 20], [20, 25]] has eigenvalues 45 and 5.
        let s = try singularValues(Matrix(rows: 2, cols: 2, data: [3, 0, 4, 5]))
        #expect(abs(s[0] - 45.0.squareRoot()) < 1e-13 && abs(s[1] - 5.0.squareRoot()) < 1e-13)
        // Rank one u·vᵀ: one singular value |u|·|v|, the rest 0.
        let r1 = Matrix(rows: 3, cols: 2, data: [1 * 2, 1 * 1, 2 * 2, 2 * 1, 2 * 2, 2 * 1])
        let s1 = try singularValues(r1)
        #expect(abs(s1[0] - 3 * 5.0.squareRoot()) < 1e-13 && abs(s1[1]) < 1e-13)
    }

    @Test func choleskyFactorsAPositiveDefiniteMatrix() throws {
        var rng = RNG(seed: 9)
        let b = Matrix.gaussian(rows: 6, cols: 6, rng: &rng)
        var a = b.gram()
        for i in 0..<6 { a[i, i] += 1 }
        let l = try cholesky(a)
        #expect(maxDifference(l * l.transposed(), a) < 1e-12)
        for i in 0..<6 { for j in (i + 1)..<6 { #expect(l[i, j] == 0) } }
        #expect(abs(try cholesky(Matrix(rows: 2, cols: 2, data: [4, 2, 2, 5]))[1, 0] - 1) < 1e-15)
        #expect(throws: LabError.self) { try cholesky(Matrix(rows: 2, cols: 2, data: [1, 2, 2, 1])) }
    }

    @Test func givensRotationIsRightMultiplication() {
        var rng = RNG(seed: 2)
        let a = Matrix.gaussian(rows: 4, cols: 5, rng: &rng)
        let angle = 0.7, rotation = Givens(angle: angle)
        var rotated = a
        rotated.rotateColumns(1, 3, by: rotation)
        // G: identity except G[1,1] = G[3,3] = cos, G[3,1] = sin, G[1,3] = −sin.
        var g = Matrix.identity(5)
        g[1, 1] = rotation.cos; g[3, 3] = rotation.cos; g[3, 1] = rotation.sin; g[1, 3] = -rotation.sin
        #expect(maxDifference(rotated, a * g) < 1e-15)
        #expect(maxDifference(rotated.gram(), a.gram()) < 1e-13)
        // Rotating rows of Aᵀ is rotating columns of A.
        var t = a.transposed()
        t.rotateRows(1, 3, by: rotation)
        #expect(t.transposed() == rotated)
    }

    @Test func orthogonalityErrorMeasuresTheShortSide() throws {
        // Rows of [I_2 | 0] are orthonormal: error 0; scaled by 2 it is 0 with gain 2 and 3 without.
        var a = Matrix(rows: 2, cols: 3)
        a[0, 0] = 2; a[1, 1] = 2
        #expect(a.orthogonalityError(gain: 2) == 0)
        #expect(a.orthogonalityError() == 3)
        #expect(try orthogonalityError(a.transposed().tensor(), gain: 2) == 0)
        #expect(nonZeroDensity(a.tensor()) == 2.0 / 6)
    }
}
