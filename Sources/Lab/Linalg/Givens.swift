import Foundation

/// A Givens rotation by angle α, acting on a pair of vectors (x, y):
///
///     x' =  cos α · x + sin α · y
///     y' = −sin α · x + cos α · y
///
/// Applied to columns i and j of A it is A ← A·G with G the m x m identity except G[i,i] = G[j,j] = cos α,
/// G[j,i] = sin α, G[i,j] = −sin α; G is orthogonal, so A·Aᵀ is unchanged.
public struct Givens: Sendable, Equatable {
    public let cos: Double
    public let sin: Double

    public init(angle: Double) {
        self.cos = Foundation.cos(angle)
        self.sin = Foundation.sin(angle)
    }

    /// Rotates `count` entries of x and y in place (strides in elements). O(count).
    @inlinable
    public func apply(_ x: UnsafeMutablePointer<Double>, _ y: UnsafeMutablePointer<Double>,
                      count: Int, stride: Int = 1) {
        let c = cos, s = sin
        if stride == 1 {
            for k in 0..<count {
                let a = x[k], b = y[k]
                x[k] = c * a + s * b
                y[k] = -s * a + c * b
            }
        } else {
            for k in 0..<count {
                let a = x[k * stride], b = y[k * stride]
                x[k * stride] = c * a + s * b
                y[k * stride] = -s * a + c * b
            }
        }
    }
}

extension Matrix {
    /// Rotates columns i and j (i ≠ j): (A[:,i], A[:,j]) ← (c·A[:,i] + s·A[:,j], −s·A[:,i] + c·A[:,j]),
    /// i.e. A ← A·G. Strided in the row-major layout; keep the transpose and use `rotateRows` for speed.
    public mutating func rotateColumns(_ i: Int, _ j: Int, by rotation: Givens) {
        precondition(i != j && i >= 0 && j >= 0 && i < cols && j < cols, "Matrix.rotateColumns: bad pair (\(i), \(j)) of \(cols)")
        let stride = cols, n = rows
        data.withUnsafeMutableBufferPointer { p in
            rotation.apply(p.baseAddress! + i, p.baseAddress! + j, count: n, stride: stride)
        }
    }

    /// Rotates rows i and j (i ≠ j) with the same formula, i.e. A ← Gᵀ·A; contiguous, O(cols).
    public mutating func rotateRows(_ i: Int, _ j: Int, by rotation: Givens) {
        precondition(i != j && i >= 0 && j >= 0 && i < rows && j < rows, "Matrix.rotateRows: bad pair (\(i), \(j)) of \(rows)")
        let n = cols
        data.withUnsafeMutableBufferPointer { p in
            rotation.apply(p.baseAddress! + i * n, p.baseAddress! + j * n, count: n)
        }
    }
}
