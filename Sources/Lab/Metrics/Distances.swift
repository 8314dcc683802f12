import Foundation

/// Row-wise vector geometry for evaluation-time classifiers (nearest-mean, prototype matching). These work
/// on values only: they record nothing on the tape and are meant for `noGrad` scoring, not training.
public enum Distances {
    /// Each row divided by its Euclidean norm: x̂_n = x_n / max(‖x_n‖₂, ε). A zero row stays zero.
    /// x: [N, D] → [N, D]
    public static func l2NormalizedRows(_ x: Tensor, epsilon: Float = 1e-12) -> Tensor {
        precondition(x.rank == 2, "l2NormalizedRows: x must be [N, D], got \(x.shape)")
        let (rows, width) = (x.shape[0], x.shape[1])
        return Tensor(shape: x.shape) { out in
            x.data.withUnsafeBufferPointer { source in
                for r in 0..<rows {
                    let base = r * width
                    var squares: Double = 0
                    for j in 0..<width { squares += Double(source[base + j]) * Double(source[base + j]) }
                    let scale = Float(1 / max(squares.squareRoot(), Double(epsilon)))
                    for j in 0..<width { out[base + j] = source[base + j] * scale }
                }
            }
        }
    }

    /// Euclidean norm of every row: [N, D] → [N] (Float64 accumulation).
    public static func rowNorms(_ x: Tensor) -> [Double] {
        precondition(x.rank == 2, "rowNorms: x must be [N, D], got \(x.shape)")
        let (rows, width) = (x.shape[0], x.shape[1])
        return x.data.withUnsafeBufferPointer { source in
            (0..<rows).map { r in
                var squares: Double = 0
                for j in 0..<width { squares += Double(source[r * width + j]) * Double(source[r * width + j]) }
                return squares.squareRoot()
            }
        }
    }

    /// Squared Euclidean distances between every row of `a` and every row of `b`, as one GEMM:
    /// D[n, m] = ‖a_n‖² − 2·a_n·b_m + ‖b_m‖², clamped at 0 against rounding.
    /// a: [N, D], b: [M, D] → [N, M]
    public static func pairwiseSquaredEuclidean(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[1],
                     "pairwiseSquaredEuclidean: a \(a.shape) and b \(b.shape) must be [N, D] and [M, D]")
        let (n, m, width) = (a.shape[0], b.shape[0], a.shape[1])
        let squaredA = rowNorms(a).map { Float($0 * $0) }, squaredB = rowNorms(b).map { Float($0 * $0) }
        return Tensor(shape: [n, m]) { out in
            a.data.withUnsafeBufferPointer { ap in
                b.data.withUnsafeBufferPointer { bp in
                    sgemm(ap.baseAddress!, bp.baseAddress!, out.baseAddress!, m: n, n: m, k: width,
                          transB: true, alpha: -2, beta: 0)
                }
            }
            for r in 0..<n {
                for c in 0..<m { out[r * m + c] = max(out[r * m + c] + squaredA[r] + squaredB[c], 0) }
            }
        }
    }

    /// For every row of `a`, the index of the nearest row of `b` (squared Euclidean distance; the lowest
    /// index wins ties). a: [N, D], b: [M, D] → [N]
    public static func nearestRow(_ a: Tensor, among b: Tensor) -> [Int] {
        precondition(b.rank == 2 && b.shape[0] > 0, "nearestRow: b must hold at least one row, got \(b.shape)")
        let distances = pairwiseSquaredEuclidean(a, b)
        let m = b.shape[0]
        return distances.data.withUnsafeBufferPointer { d in
            (0..<a.shape[0]).map { r in
                var best = 0
                for c in 1..<m where d[r * m + c] < d[r * m + best] { best = c }
                return best
            }
        }
    }
}
