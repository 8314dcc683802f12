import CBLAS

/// A dense Float64 matrix for linear algebra that needs more precision than Lab's Float32 `Tensor`
/// (orthogonal factorisations, eigen-solvers, exact sparse orthogonal generators).
///
/// Storage is **row-major**: entry (r, c) is `data[r * cols + c]`, the same layout as a rank-2 `Tensor`.
/// LAPACK is column-major; the decompositions in this folder convert explicitly with `columnMajor()` and
/// `Matrix(rows:cols:columnMajor:)` (the column-major buffer of A is the row-major buffer of Aᵀ).
///
///     let a = Matrix(rows: 2, cols: 3, data: [1, 2, 3, 4, 5, 6])
///     let g = a * a.transposed()      // [2, 2] Gram matrix, via cblas_dgemm
public struct Matrix: Sendable, Equatable, CustomStringConvertible {
    public let rows: Int
    public let cols: Int
    /// Row-major entries, `rows * cols` of them.
    public var data: [Double]

    public init(rows: Int, cols: Int, data: [Double]) {
        precondition(rows >= 0 && cols >= 0 && data.count == rows * cols,
                     "Matrix: \(data.count) values do not fill \(rows) x \(cols)")
        self.rows = rows
        self.cols = cols
        self.data = data
    }

    /// A rows x cols matrix with every entry equal to `value`.
    public init(rows: Int, cols: Int, repeating value: Double = 0) {
        self.init(rows: rows, cols: cols, data: [Double](repeating: value, count: rows * cols))
    }

    /// Reads a column-major buffer (LAPACK's layout, leading dimension `rows`) into a row-major matrix.
    public init(rows: Int, cols: Int, columnMajor buffer: [Double]) {
        precondition(buffer.count == rows * cols, "Matrix: column-major buffer of \(buffer.count) for \(rows) x \(cols)")
        var d = [Double](repeating: 0, count: rows * cols)
        for c in 0..<cols {
            for r in 0..<rows { d[r * cols + c] = buffer[c * rows + r] }
        }
        self.init(rows: rows, cols: cols, data: d)
    }

    /// The Float64 copy of a Float32 tensor of rank >= 2, flattened to [shape[0], product of the rest]
    /// (a conv kernel [cOut, cIn, k, k] becomes cOut x (cIn·k²), the row-major reshape).
    public init(_ tensor: Tensor) throws {
        guard tensor.rank >= 2 else {
            throw LabError.shapeMismatch(op: "Matrix(tensor)", shapes: [tensor.shape],
                                         reason: "needs rank >= 2; reshape a vector to [1, n] first")
        }
        let r = tensor.shape[0]
        self.init(rows: r, cols: r == 0 ? 0 : tensor.count / r, data: tensor.data.map(Double.init))
    }

    /// The n x n identity.
    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, cols: n)
        for i in 0..<n { m.data[i * n + i] = 1 }
        return m
    }

    /// Independent N(0, 1) entries.
    public static func gaussian(rows: Int, cols: Int, rng: inout RNG) -> Matrix {
        var m = Matrix(rows: rows, cols: cols)
        for i in 0..<m.data.count { m.data[i] = rng.normal() }
        return m
    }

    @inlinable public subscript(_ r: Int, _ c: Int) -> Double {
        get { data[r * cols + c] }
        set { data[r * cols + c] = newValue }
    }

    /// The column-major buffer of this matrix (what LAPACK expects with leading dimension `rows`).
    public func columnMajor() -> [Double] { transposed().data }

    /// Aᵀ. Copied in 32 x 32 tiles so that neither side is walked with a cache-hostile stride.
    public func transposed() -> Matrix {
        var t = Matrix(rows: cols, cols: rows)
        let tile = 32
        data.withUnsafeBufferPointer { a in
            t.data.withUnsafeMutableBufferPointer { b in
                for r0 in stride(from: 0, to: rows, by: tile) {
                    for c0 in stride(from: 0, to: cols, by: tile) {
                        for r in r0..<min(r0 + tile, rows) {
                            for c in c0..<min(c0 + tile, cols) { b[c * rows + r] = a[r * cols + c] }
                        }
                    }
                }
            }
        }
        return t
    }

    /// A Float32 tensor with these entries; `shape` defaults to [rows, cols] and must hold rows·cols values.
    public func tensor(shape: [Int]? = nil) -> Tensor {
        let s = shape ?? [rows, cols]
        precondition(s.reduce(1, *) == data.count, "Matrix.tensor: shape \(s) does not hold \(rows) x \(cols)")
        return Tensor(shape: s, data: data.map { Float($0) })
    }

    /// Matrix product A·B (cblas_dgemm). a: [m, k], b: [k, n] -> [m, n]
    public static func * (a: Matrix, b: Matrix) -> Matrix {
        Parallel.prepareBLAS()
        precondition(a.cols == b.rows, "Matrix *: \(a.rows) x \(a.cols) times \(b.rows) x \(b.cols)")
        var c = Matrix(rows: a.rows, cols: b.cols)
        if a.rows == 0 || b.cols == 0 || a.cols == 0 { return c }
        a.data.withUnsafeBufferPointer { pa in
            b.data.withUnsafeBufferPointer { pb in
                c.data.withUnsafeMutableBufferPointer { pc in
                    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                                Int32(a.rows), Int32(b.cols), Int32(a.cols), 1,
                                pa.baseAddress, Int32(a.cols), pb.baseAddress, Int32(b.cols),
                                0, pc.baseAddress, Int32(b.cols))
                }
            }
        }
        return c
    }

    /// A·Aᵀ (rows x rows) when `rowSide`, else Aᵀ·A (cols x cols); the full symmetric result.
    public func gram(rowSide: Bool = true) -> Matrix {
        Parallel.prepareBLAS()
        let n = rowSide ? rows : cols, k = rowSide ? cols : rows
        var g = Matrix(rows: n, cols: n)
        if n == 0 || k == 0 { return g }
        data.withUnsafeBufferPointer { pa in
            g.data.withUnsafeMutableBufferPointer { pg in
                cblas_dsyrk(CblasRowMajor, CblasUpper, rowSide ? CblasNoTrans : CblasTrans,
                            Int32(n), Int32(k), 1, pa.baseAddress, Int32(cols), 0, pg.baseAddress, Int32(n))
                for i in 0..<n { for j in 0..<i { pg[i * n + j] = pg[j * n + i] } }
            }
        }
        return g
    }

    /// The largest absolute entry (0 for an empty matrix).
    public var maxAbs: Double { data.reduce(0) { max($0, abs($1)) } }

    /// The number of entries that are exactly non-zero.
    public var nonZeroCount: Int { data.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }

    public var description: String {
        (0..<rows).map { r in (0..<cols).map { c in "\(self[r, c])" }.joined(separator: " ") }
            .joined(separator: "\n")
    }
}
