import Foundation

/// A per-token magnitude rule that zeroes the small entries of an activation row v ∈ Rⁿ and keeps the others
/// unchanged (activation sparsity, e.g. Szatkowski et al. 2025, arXiv 2509.00454). With a = |v|:
/// - `topP(p)`: keep the largest entries holding a fraction p of the L1 mass. Sorted descending with running
///   sums S_k (Float64), k* = the first k with S_k ≥ p·S (S = Σ a); t = a_(k*); keep every a_i ≥ t (ties kept).
///   Equivalently t = the largest a_i with Σ_{a_j ≥ a_i} a_j ≥ p·S. p = 1 keeps every non-zero entry
///   (exactly the identity); p = 0 keeps only the maximum (and its ties).
/// - `topK(k)`: keep the ⌊n·k⌋ largest a_i (k a fraction of n; ties broken by lower index).
/// - `maxP(p)`: keep a_i ≥ p·max_j a_j.
public enum SparsityRule: Sendable, Hashable, CustomStringConvertible {
    case topP(Double)
    case topK(Double)
    case maxP(Double)

    /// "top-p 0.9", "top-k 0.25", "max-p 0.05"
    public var description: String {
        switch self {
        case .topP(let p): return "top-p \(p)"
        case .topK(let k): return "top-k \(k)"
        case .maxP(let p): return "max-p \(p)"
        }
    }

    /// The rule's parameter (p or k).
    public var parameter: Double {
        switch self {
        case .topP(let x), .topK(let x), .maxP(let x): return x
        }
    }
}

/// Applies a `SparsityRule` to the rows of an activation, in place and in parallel over rows.
///
/// Top-p and top-k never sort a whole row: one pass builds a 1,024-bucket histogram (count and Float64 mass)
/// of the top bits of |v|'s IEEE bit patterns, which order like the values for non-negative floats; walking
/// the buckets from the top finds the bucket holding the threshold, and only that bucket's entries are
/// sorted. Cost ≈ 3 passes over the row plus a sort of one bucket, instead of an n log n sort per token.
public enum Sparsify {
    /// Buckets of the histogram: |v|'s bit pattern shifted right by 21 leaves 10 bits (8 exponent bits, 2
    /// mantissa bits), so one bucket spans a quarter of an octave.
    static let bucketShift: UInt32 = 21
    static let bucketCount = 1 << 10

    /// Rewrites each of `rows` rows (`width` floats, `rowStride` apart) by `rule`. Returns the number of entries
    /// that are zero afterwards (already-zero entries included).
    @discardableResult
    public static func apply(_ rule: SparsityRule, to base: UnsafeMutablePointer<Float>, rows: Int, width: Int,
                             rowStride: Int) -> Int {
        rowZeroCounts(rule, to: base, rows: rows, width: width, rowStride: rowStride).reduce(0, +)
    }

    /// As `apply`, returning the zero count of each row afterwards (so a caller can count scored rows only).
    public static func rowZeroCounts(_ rule: SparsityRule, to base: UnsafeMutablePointer<Float>, rows: Int, width: Int,
                                     rowStride: Int) -> [Int] {
        precondition(width > 0 && rowStride >= width, "Sparsify.apply: width \(width), row stride \(rowStride)")
        switch rule {
        case .topP(let p), .maxP(let p):
            precondition((0...1).contains(p), "Sparsify.apply: \(rule) needs p in [0, 1]")
        case .topK(let k):
            precondition((0...1).contains(k), "Sparsify.apply: \(rule) needs k in [0, 1]")
        }
        let pointer = UncheckedSendable(base)
        return [Int](unsafeUninitializedCapacity: rows) { buffer, initialized in
            let zeroCounts = UncheckedSendable(buffer.baseAddress!)
            Parallel.forChunks(rows, costPerItem: width * 8) { lo, hi in
                var scratch = RowScratch(width: width)
                for r in lo..<hi {
                    (zeroCounts.value + r).initialize(to: scratch.apply(rule, to: pointer.value + r * rowStride, width: width))
                }
            }
            initialized = rows
        }
    }

    /// The same on a contiguous [rows, width] array.
    @discardableResult
    public static func apply(_ rule: SparsityRule, to values: inout [Float], width: Int) -> Int {
        precondition(values.count % width == 0, "Sparsify.apply: \(values.count) values are not rows of \(width)")
        return values.withUnsafeMutableBufferPointer { apply(rule, to: $0.baseAddress!, rows: $0.count / width, width: width, rowStride: width) }
    }
}

/// Per-thread scratch of the histogram rule: bucket counts and masses, and one bucket's bit patterns.
private struct RowScratch {
    var counts: [Int32]
    var masses: [Double]
    var bucket: [UInt32]

    init(width: Int) {
        counts = [Int32](repeating: 0, count: Sparsify.bucketCount)
        masses = [Double](repeating: 0, count: Sparsify.bucketCount)
        bucket = []
        bucket.reserveCapacity(width)
    }

    /// Applies `rule` to one row; returns its zero count afterwards.
    mutating func apply(_ rule: SparsityRule, to row: UnsafeMutablePointer<Float>, width n: Int) -> Int {
        switch rule {
        case .topP(let p):
            let t = topPThreshold(row, n: n, p: p)
            return zeroBelow(row, n: n, threshold: t)
        case .maxP(let p):
            var largest: Float = 0
            for i in 0..<n { largest = max(largest, abs(row[i])) }
            return zeroBelow(row, n: n, threshold: Float(p) * largest)
        case .topK(let k):
            return keepLargest(row, n: n, count: Int((Double(n) * k).rounded(.down)))
        }
    }

    /// Sets v_i = 0 where |v_i| < threshold; returns the zero count of the row afterwards.
    private func zeroBelow(_ row: UnsafeMutablePointer<Float>, n: Int, threshold: Float) -> Int {
        var zeros = 0
        for i in 0..<n {
            if abs(row[i]) < threshold { row[i] = 0 }
            if row[i] == 0 { zeros += 1 }
        }
        return zeros
    }

    /// Fills the histogram of |row|'s bit patterns; returns the total L1 mass (Float64).
    private mutating func histogram(_ row: UnsafeMutablePointer<Float>, n: Int) -> Double {
        for b in 0..<counts.count { counts[b] = 0; masses[b] = 0 }
        var total = 0.0
        for i in 0..<n {
            let bits = row[i].bitPattern & 0x7FFF_FFFF
            let b = Int(bits >> Sparsify.bucketShift)
            let a = Double(Float(bitPattern: bits))
            counts[b] += 1
            masses[b] += a
            total += a
        }
        return total
    }

    /// The bit patterns of |row| that fall in bucket b, sorted descending.
    private mutating func collect(_ row: UnsafeMutablePointer<Float>, n: Int, bucket b: Int) {
        bucket.removeAll(keepingCapacity: true)
        for i in 0..<n {
            let bits = row[i].bitPattern & 0x7FFF_FFFF
            if Int(bits >> Sparsify.bucketShift) == b { bucket.append(bits) }
        }
        bucket.sort(by: >)
    }

    /// t = the largest a_i with Σ_{a_j ≥ a_i} a_j ≥ p·S. For p = 1 every non-zero entry is kept (t = the
    /// smallest non-zero |v_i|), so that rounding of the running sums cannot drop the last entry.
    private mutating func topPThreshold(_ row: UnsafeMutablePointer<Float>, n: Int, p: Double) -> Float {
        if p >= 1 {
            var smallest = Float.infinity
            for i in 0..<n where row[i] != 0 { smallest = min(smallest, abs(row[i])) }
            return smallest.isFinite ? smallest : 0
        }
        let target = p * histogram(row, n: n)
        var above = 0.0
        var found = -1, lowest = -1
        for b in stride(from: counts.count - 1, through: 0, by: -1) where counts[b] > 0 {
            lowest = b
            if above + masses[b] >= target { found = b; break }
            above += masses[b]
        }
        // Rounding can leave the bucket sums a hair below p·S when p is near 1: then the threshold lies in
        // the lowest non-empty bucket.
        if found < 0 { found = lowest; above -= masses[lowest] }
        collect(row, n: n, bucket: found)
        var running = above
        for bits in bucket {
            let a = Float(bitPattern: bits)
            running += Double(a)
            if running >= target { return a }
        }
        return Float(bitPattern: bucket.last!)
    }

    /// Keeps the `count` largest |v_i| (ties at the threshold: lower indices first); returns the zero count.
    private mutating func keepLargest(_ row: UnsafeMutablePointer<Float>, n: Int, count k: Int) -> Int {
        if k >= n { return (0..<n).reduce(0) { $0 + (row[$1] == 0 ? 1 : 0) } }
        if k <= 0 {
            for i in 0..<n { row[i] = 0 }
            return n
        }
        _ = histogram(row, n: n)
        var above = 0
        var found = 0
        for b in stride(from: counts.count - 1, through: 0, by: -1) where counts[b] > 0 {
            if above + Int(counts[b]) >= k { found = b; break }
            above += Int(counts[b])
        }
        collect(row, n: n, bucket: found)
        let threshold = bucket[k - above - 1]
        // Entries strictly above the threshold are all kept; this many ties at the threshold remain to keep.
        var tiesToKeep = k - above - bucket.prefix(k - above).filter { $0 > threshold }.count
        var zeros = 0
        for i in 0..<n {
            let bits = row[i].bitPattern & 0x7FFF_FFFF
            if bits < threshold {
                row[i] = 0
            } else if bits == threshold {
                if tiesToKeep > 0 { tiesToKeep -= 1 } else { row[i] = 0 }
            }
            if row[i] == 0 { zeros += 1 }
        }
        return zeros
    }
}

extension Tensor {
    /// `rule` applied to each row of the last axis (a copy). x: [.., n] → same shape.
    /// Backward: the gradient flows through the kept entries only (∂y_i/∂x_i = 1 if kept, else 0; the mask is
    /// held fixed, as for ReLU at its kink).
    public func sparsified(_ rule: SparsityRule) -> Tensor {
        precondition(rank >= 1, "sparsified: needs at least one axis")
        let n = shape[rank - 1]
        var values = data
        Sparsify.apply(rule, to: &values, width: n)
        let kept = zip(values, data).map { y, x in (y != 0 || x == 0) ? Float(1) : 0 }
        let out = Tensor(shape: shape, data: values)
        let source = self
        return out.recorded(self) { g in source.accumulateGrad(zip(g.data, kept).map { $0 * $1 }) }
    }
}
