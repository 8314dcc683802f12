import CBLAS

/// Eigenvalues only of a symmetric matrix (LAPACK dsyevd with jobz = "N"), ascending. Much cheaper than
/// `symmetricEigen` when the vectors are not needed (spectra of Gram matrices, effective rank).
/// Only the upper triangle of `a` is read.   a: [n, n] -> [n]
public func symmetricEigenvalues(_ a: Matrix) throws -> [Double] {
    guard a.rows == a.cols else {
        throw LabError.shapeMismatch(op: "symmetricEigenvalues", shapes: [[a.rows, a.cols]], reason: "needs a square matrix")
    }
    let n = a.rows
    guard n > 0 else { return [] }
    var buffer = a.columnMajor()
    var values = [Double](repeating: 0, count: n)
    var jobz = Int8(UInt8(ascii: "N")), uplo = Int8(UInt8(ascii: "L"))   // column-major lower = row-major upper
    var nn = Int32(n), lda = Int32(n), info: Int32 = 0
    var query = 0.0, iquery: Int32 = 0, lwork: Int32 = -1, liwork: Int32 = -1
    dsyevd_(&jobz, &uplo, &nn, &buffer, &lda, &values, &query, &lwork, &iquery, &liwork, &info)
    lwork = Int32(query); liwork = iquery
    var work = [Double](repeating: 0, count: max(1, Int(lwork)))
    var iwork = [Int32](repeating: 0, count: max(1, Int(liwork)))
    dsyevd_(&jobz, &uplo, &nn, &buffer, &lda, &values, &work, &lwork, &iwork, &liwork, &info)
    guard info == 0 else {
        throw LabError.invalidArgument("symmetricEigenvalues: LAPACK dsyevd did not converge (info \(info)) on a \(n) x \(n) matrix; check it for NaN/Inf")
    }
    return values
}
