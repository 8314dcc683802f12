import CBLAS

// Dense Float64 decompositions over LAPACK (shipped inside OpenBLAS, declared in CBLAS/shim.h).
// LAPACK is column-major and takes every argument by pointer (Fortran convention); each wrapper converts
// the row-major `Matrix` with `columnMajor()` on the way in and `Matrix(rows:cols:columnMajor:)` on the way out.

/// Householder QR (LAPACK dgeqrf + dorgqr), the reduced form: A = Q·R with k = min(m, n),
/// Q: [m, k] with orthonormal columns (QᵀQ = I_k), R: [k, n] upper triangular.
/// a: [m, n] -> (q: [m, k], r: [k, n])
public func qr(_ a: Matrix) throws -> (q: Matrix, r: Matrix) {
    Parallel.prepareBLAS()
    let m = a.rows, n = a.cols, k = min(m, n)
    guard k > 0 else { return (Matrix(rows: m, cols: 0), Matrix(rows: 0, cols: n)) }
    var buffer = a.columnMajor()
    var tau = [Double](repeating: 0, count: k)
    var mm = Int32(m), nn = Int32(n), kk = Int32(k), lda = Int32(m), info: Int32 = 0
    // Workspace query (lwork = -1) then the factorisation.
    var query = 0.0, lwork: Int32 = -1
    dgeqrf_(&mm, &nn, &buffer, &lda, &tau, &query, &lwork, &info)
    lwork = Int32(query)
    var work = [Double](repeating: 0, count: max(1, Int(lwork)))
    dgeqrf_(&mm, &nn, &buffer, &lda, &tau, &work, &lwork, &info)
    guard info == 0 else { throw LabError.invalidArgument("qr: LAPACK dgeqrf failed with info \(info) on a \(m) x \(n) matrix") }
    // R: the upper triangle of the first k rows (column-major: entry (i, j) at j*m + i).
    var r = Matrix(rows: k, cols: n)
    for i in 0..<k { for j in i..<n { r[i, j] = buffer[j * m + i] } }
    // Q: the first k columns of the product of the Householder reflectors.
    lwork = -1
    dorgqr_(&mm, &kk, &kk, &buffer, &lda, &tau, &query, &lwork, &info)
    lwork = Int32(query)
    work = [Double](repeating: 0, count: max(1, Int(lwork)))
    dorgqr_(&mm, &kk, &kk, &buffer, &lda, &tau, &work, &lwork, &info)
    guard info == 0 else { throw LabError.invalidArgument("qr: LAPACK dorgqr failed with info \(info) on a \(m) x \(n) matrix") }
    let q = Matrix(rows: m, cols: k, columnMajor: Array(buffer[0..<(m * k)]))
    return (q, r)
}

/// Eigen-decomposition of a symmetric matrix (LAPACK dsyevd, divide and conquer): A = V·diag(λ)·Vᵀ.
/// Only the upper triangle of `a` is read. Returns the eigenvalues in ascending order and V whose
/// column i is the unit eigenvector of values[i].
/// a: [n, n] -> (values: [n], vectors: [n, n])
public func symmetricEigen(_ a: Matrix) throws -> (values: [Double], vectors: Matrix) {
    let (values, buffer) = try symmetricEigenLAPACK(a, vectors: true, op: "symmetricEigen")
    return (values, Matrix(rows: a.rows, cols: a.rows, columnMajor: buffer))
}

/// Eigenvalues only of a symmetric matrix (LAPACK dsyevd with jobz = "N"), ascending. Much cheaper than
/// `symmetricEigen` when the vectors are not needed (spectra of Gram matrices, effective rank).
/// Only the upper triangle of `a` is read.   a: [n, n] -> [n]
public func symmetricEigenvalues(_ a: Matrix) throws -> [Double] {
    try symmetricEigenLAPACK(a, vectors: false, op: "symmetricEigenvalues").values
}

/// dsyevd on a copy of `a`: the eigenvalues (ascending) and the column-major buffer, which holds the
/// eigenvectors when `vectors` is true.
private func symmetricEigenLAPACK(_ a: Matrix, vectors: Bool, op: String) throws -> (values: [Double], buffer: [Double]) {
    Parallel.prepareBLAS()
    guard a.rows == a.cols else {
        throw LabError.shapeMismatch(op: op, shapes: [[a.rows, a.cols]], reason: "needs a square matrix")
    }
    let n = a.rows
    guard n > 0 else { return ([], []) }
    var buffer = a.columnMajor()
    var values = [Double](repeating: 0, count: n)
    var jobz = Int8(UInt8(ascii: vectors ? "V" : "N")), uplo = Int8(UInt8(ascii: "L"))   // column-major lower = row-major upper
    var nn = Int32(n), lda = Int32(n), info: Int32 = 0
    var query = 0.0, iquery: Int32 = 0, lwork: Int32 = -1, liwork: Int32 = -1
    dsyevd_(&jobz, &uplo, &nn, &buffer, &lda, &values, &query, &lwork, &iquery, &liwork, &info)
    lwork = Int32(query); liwork = iquery
    var work = [Double](repeating: 0, count: max(1, Int(lwork)))
    var iwork = [Int32](repeating: 0, count: max(1, Int(liwork)))
    dsyevd_(&jobz, &uplo, &nn, &buffer, &lda, &values, &work, &lwork, &iwork, &liwork, &info)
    guard info == 0 else {
        throw LabError.invalidArgument("\(op): LAPACK dsyevd did not converge (info \(info)) on a \(n) x \(n) matrix; check it for NaN/Inf")
    }
    return (values, buffer)
}

/// Singular values of A in descending order (LAPACK dgesdd without vectors). a: [m, n] -> [min(m, n)]
public func singularValues(_ a: Matrix) throws -> [Double] {
    Parallel.prepareBLAS()
    let m = a.rows, n = a.cols, k = min(m, n)
    guard k > 0 else { return [] }
    var buffer = a.columnMajor()
    var s = [Double](repeating: 0, count: k)
    var jobz = Int8(UInt8(ascii: "N"))
    var mm = Int32(m), nn = Int32(n), lda = Int32(m), ldu: Int32 = 1, ldvt: Int32 = 1, info: Int32 = 0
    var u = [Double](repeating: 0, count: 1), vt = [Double](repeating: 0, count: 1)
    var iwork = [Int32](repeating: 0, count: 8 * k)
    var query = 0.0, lwork: Int32 = -1
    dgesdd_(&jobz, &mm, &nn, &buffer, &lda, &s, &u, &ldu, &vt, &ldvt, &query, &lwork, &iwork, &info)
    lwork = Int32(query)
    var work = [Double](repeating: 0, count: max(1, Int(lwork)))
    dgesdd_(&jobz, &mm, &nn, &buffer, &lda, &s, &u, &ldu, &vt, &ldvt, &work, &lwork, &iwork, &info)
    guard info == 0 else {
        throw LabError.invalidArgument("singularValues: LAPACK dgesdd failed (info \(info)) on a \(m) x \(n) matrix; check it for NaN/Inf")
    }
    return s
}

/// Cholesky factor of a symmetric positive-definite matrix (LAPACK dpotrf): A = L·Lᵀ with L lower
/// triangular (zeros above the diagonal). Only the lower triangle of `a` is read.
/// a: [n, n] -> [n, n]
public func cholesky(_ a: Matrix) throws -> Matrix { try choleskyFactor(a, op: "cholesky") }

/// Solves A·X = B for a symmetric positive-definite A (a Hessian, a regularised covariance) by one
/// Cholesky factorisation A = L·Lᵀ and two triangular solves (cblas_dtrsm), in Float64.
/// Throws when A is not square, not symmetric (|a_ij − a_ji| > 1e-10·max|a|), or not positive definite.
/// a: [n, n], b: [n, m] -> [n, m]
public func solvePositiveDefinite(_ a: Matrix, _ b: Matrix) throws -> Matrix {
    let op = "solvePositiveDefinite"
    guard a.rows == a.cols, b.rows == a.rows else {
        throw LabError.shapeMismatch(op: op, shapes: [[a.rows, a.cols], [b.rows, b.cols]], reason: "needs A [n, n] and B [n, m]")
    }
    let n = a.rows, tolerance = 1e-10 * a.maxAbs
    for i in 0..<n {
        for j in 0..<i where abs(a[i, j] - a[j, i]) > tolerance {
            throw LabError.invalidArgument("\(op): the \(n) x \(n) matrix is not symmetric: a[\(i), \(j)] = \(a[i, j]) but a[\(j), \(i)] = \(a[j, i])")
        }
    }
    let l = try choleskyFactor(a, op: op)
    var x = b
    guard n > 0, b.cols > 0 else { return x }
    l.data.withUnsafeBufferPointer { factor in
        x.data.withUnsafeMutableBufferPointer { solution in
            // L·Z = B, then Lᵀ·X = Z, both in place.
            for transpose in [CblasNoTrans, CblasTrans] {
                cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, transpose, CblasNonUnit, Int32(n), Int32(b.cols), 1,
                            factor.baseAddress, Int32(n), solution.baseAddress, Int32(b.cols))
            }
        }
    }
    return x
}

/// Solves A·x = b for one right-hand side; see `solvePositiveDefinite(_:_:)` for B with several columns.
/// a: [n, n], b: [n] -> [n]
public func solvePositiveDefinite(_ a: Matrix, _ b: [Double]) throws -> [Double] {
    try solvePositiveDefinite(a, Matrix(rows: b.count, cols: 1, data: b)).data
}

/// dpotrf on a copy of `a` (lower triangle read), with errors named after the calling operation.
private func choleskyFactor(_ a: Matrix, op: String) throws -> Matrix {
    Parallel.prepareBLAS()
    guard a.rows == a.cols else {
        throw LabError.shapeMismatch(op: op, shapes: [[a.rows, a.cols]], reason: "needs a square matrix")
    }
    let n = a.rows
    guard n > 0 else { return a }
    var buffer = a.columnMajor()
    var uplo = Int8(UInt8(ascii: "L")), nn = Int32(n), lda = Int32(n), info: Int32 = 0
    dpotrf_(&uplo, &nn, &buffer, &lda, &info)
    guard info == 0 else {
        throw LabError.invalidArgument(info > 0
            ? "\(op): the \(n) x \(n) matrix is not positive definite (leading minor \(info) is not); add a diagonal jitter or a penalty"
            : "\(op): LAPACK dpotrf rejected argument \(-info)")
    }
    var l = Matrix(rows: n, cols: n, columnMajor: buffer)
    for i in 0..<n { for j in (i + 1)..<n { l[i, j] = 0 } }
    return l
}
