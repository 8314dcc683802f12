import Foundation

/// A Float32 tensor: contiguous row-major storage and a shape.
///
/// `Tensor` is a reference type, like a PyTorch tensor: a layer's `weight` and the optimizer that updates it
/// hold the same object. Operations return new tensors; when gradients are being recorded (see `GradMode`)
/// an op's result remembers its inputs and the closure that carries its gradient back to them (Autodiff/).
///
///     let x = Tensor.randn([64, 784], rng: &rng)        // x: [B, D]
///     let w = Tensor.zeros([10, 784], requiresGrad: true)
///     let loss = crossEntropy(x.matmul(w, transposeB: true), targets: y)
///     loss.backward()                                    // w.grad is now set
public final class Tensor: @unchecked Sendable {
    /// The extent of each axis, outermost first.
    public let shape: [Int]
    /// The elements in row-major order; `data.count == shape.reduce(1, *)`.
    public var data: [Float]
    /// The accumulated gradient of the last `backward()` with respect to this tensor, same shape.
    public var grad: Tensor?
    /// Whether ops on this tensor record the gradient tape (parameters and inputs of gradient checks).
    public var requiresGrad: Bool
    /// An optional label used in error messages and by `Module` parameter paths.
    public var name: String?

    // Autodiff tape (see Autodiff/Tape.swift): the inputs of the op that made this tensor and the closure
    // that accumulates their gradients given this tensor's gradient.
    var parents: [Tensor] = []
    var backwardFn: ((Tensor) -> Void)?

    /// A tensor over `data` with the given shape. Traps with both sizes if they disagree.
    public init(shape: [Int], data: [Float], requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative extent in shape \(shape)")
        precondition(shape.reduce(1, *) == data.count,
                     "Tensor: shape \(shape) holds \(shape.reduce(1, *)) elements but data has \(data.count)")
        self.shape = shape
        self.data = data
        self.requiresGrad = requiresGrad
    }

    /// A tensor whose elements are written by `body` (no zero-filling first). `body` must write every element.
    public init(shape: [Int], requiresGrad: Bool = false,
                unsafeUninitialized body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let n = shape.reduce(1, *)
        self.shape = shape
        self.data = [Float](unsafeUninitializedCapacity: n) { buf, count in
            body(buf)
            count = n
        }
        self.requiresGrad = requiresGrad
    }

    /// A 0-d tensor holding one value.
    public convenience init(_ value: Float) { self.init(shape: [], data: [value]) }

    /// A 1-d tensor of the given values.
    public convenience init(_ values: [Float], requiresGrad: Bool = false) {
        self.init(shape: [values.count], data: values, requiresGrad: requiresGrad)
    }

    /// A 2-d tensor from rows of equal length.
    public convenience init(rows: [[Float]]) {
        let c = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == c }, "Tensor(rows:): rows have different lengths")
        self.init(shape: [rows.count, c], data: rows.flatMap { $0 })
    }

    // MARK: - Shape facts

    /// Number of elements.
    @inlinable public var count: Int { data.count }
    /// Number of axes.
    @inlinable public var rank: Int { shape.count }
    /// The single value of a one-element tensor.
    public var item: Float {
        precondition(data.count == 1, "Tensor.item: tensor of shape \(shape) has \(data.count) elements, not 1")
        return data[0]
    }
    /// Converts a possibly negative axis to 0..<rank; traps naming the op when out of range.
    public func axis(_ a: Int, op: String = #function) -> Int {
        let r = a < 0 ? a + rank : a
        precondition(r >= 0 && r < Swift.max(rank, 1), "\(op): axis \(a) out of range for shape \(shape)")
        return r
    }

    /// The elements as Doubles (for metrics, tables and plots).
    public var doubles: [Double] { data.map(Double.init) }

    /// Element at a multi-index (slow; for tests and small lookups).
    public subscript(_ index: Int...) -> Float {
        get { data[flatIndex(index)] }
        set { data[flatIndex(index)] = newValue }
    }

    func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == rank, "Tensor subscript: \(index.count) indices for shape \(shape)")
        var f = 0
        for (i, (k, n)) in zip(index, shape).enumerated() {
            precondition(k >= 0 && k < n, "Tensor subscript: index \(k) out of range for axis \(i) of shape \(shape)")
            f = f * n + k
        }
        return f
    }

    // MARK: - Creation

    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)), requiresGrad: requiresGrad)
    }
    public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        full(shape, 1, requiresGrad: requiresGrad)
    }
    public static func full(_ shape: [Int], _ value: Float, requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, data: [Float](repeating: value, count: shape.reduce(1, *)), requiresGrad: requiresGrad)
    }
    /// 0, 1, ..., n-1 (or start, start+step, ... below end).
    public static func arange(_ start: Float = 0, _ end: Float, step: Float = 1) -> Tensor {
        precondition(step != 0, "arange: step is 0")
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor(shape: [n], data: (0..<n).map { start + Float($0) * step })
    }
    /// Evenly spaced values from start to end inclusive.
    public static func linspace(_ start: Float, _ end: Float, count n: Int) -> Tensor {
        let d = n > 1 ? (end - start) / Float(n - 1) : 0
        return Tensor(shape: [n], data: (0..<n).map { start + Float($0) * d })
    }
    /// Standard normal (or N(mean, std²)) entries from `rng`.
    public static func randn(_ shape: [Int], mean: Float = 0, std: Float = 1, rng: inout RNG,
                             requiresGrad: Bool = false) -> Tensor {
        let n = shape.reduce(1, *)
        var d = [Float](repeating: 0, count: n)
        for i in 0..<n { d[i] = mean + std * Float(rng.normal()) }
        return Tensor(shape: shape, data: d, requiresGrad: requiresGrad)
    }
    /// Uniform entries in [low, high) from `rng`.
    public static func rand(_ shape: [Int], low: Float = 0, high: Float = 1, rng: inout RNG,
                            requiresGrad: Bool = false) -> Tensor {
        let n = shape.reduce(1, *)
        var d = [Float](repeating: 0, count: n)
        for i in 0..<n { d[i] = low + (high - low) * Float(rng.uniform()) }
        return Tensor(shape: shape, data: d, requiresGrad: requiresGrad)
    }
    /// Bernoulli(p) entries (1 or 0) from `rng`.
    public static func bernoulli(_ shape: [Int], p: Double, rng: inout RNG) -> Tensor {
        let n = shape.reduce(1, *)
        var d = [Float](repeating: 0, count: n)
        for i in 0..<n where rng.uniform() < p { d[i] = 1 }
        return Tensor(shape: shape, data: d)
    }
    /// The n x n identity.
    public static func eye(_ n: Int) -> Tensor {
        var d = [Float](repeating: 0, count: n * n)
        for i in 0..<n { d[i * n + i] = 1 }
        return Tensor(shape: [n, n], data: d)
    }

    /// A new tensor with the same shape and a copy of the data, off the tape, not requiring gradients.
    public func copy() -> Tensor { Tensor(shape: shape, data: data) }

    /// The same values, cut off from the tape (gradients do not flow through it). Shares storage copy-on-write.
    public func detached() -> Tensor { Tensor(shape: shape, data: data) }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = data.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(\(shape)\(name.map { " \($0)" } ?? ""): [\(head)\(data.count > 8 ? ", …" : "")])"
    }
}
