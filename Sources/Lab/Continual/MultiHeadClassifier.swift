import Lab

/// How a new task head starts.
public enum HeadInitialization: Sendable, Equatable {
    /// Weight and bias 0 (FACIL's heads in the stability-gap authors' code): a new head predicts nothing at first.
    case zeros
    /// `Linear`'s default, U(−1/√F, 1/√F) for weight and bias (PyTorch's), drawn from the given stream.
    case standard
}

/// A FACIL-style growing multi-head classifier: one `Linear(F → classes of task t)` per task, appended when
/// the task arrives, all reading the same features. The task-agnostic logits are the heads' outputs
/// concatenated in task order, so output k of the whole belongs to the task whose `outputRanges` holds k
/// (task t's outputs start at `offsets[t]`, the number of outputs of the heads before it).
///
///     let heads = MultiHeadClassifier(featureSize: 64)
///     heads.addHead(outputs: 2, initialization: .zeros, rng: &rng)       // task 0: outputs 0..<2
///     heads.addHead(outputs: 2, initialization: .standard, rng: &rng)    // task 1: outputs 2..<4
///     let logits = heads(features)                                       // f: [B, 64] → [B, 4]
///
/// The heads are stored properties (`heads.0.weight`, ...), so `parameters`, `stateDict`, `copyState` and
/// `clone` see every head added so far; `clone` gives the twin the same heads (`adoptStructure`).
public final class MultiHeadClassifier: Module, Layer {
    public let featureSize: Int
    public private(set) var heads: [Linear] = []

    public init(featureSize: Int) {
        precondition(featureSize > 0, "MultiHeadClassifier: featureSize must be positive, got \(featureSize)")
        self.featureSize = featureSize
    }

    public var taskCount: Int { heads.count }
    /// Outputs of all heads together (the width of the concatenated logits).
    public var outputCount: Int { heads.reduce(0) { $0 + $1.outputSize } }
    /// offsets[t] = Σ_{s<t} outputs of head s.
    public var offsets: [Int] { outputRanges.map(\.lowerBound) }
    /// outputRanges[t] = the outputs of head t inside the concatenated logits.
    public var outputRanges: [Range<Int>] {
        var start = 0
        return heads.map { head in
            defer { start += head.outputSize }
            return start..<(start + head.outputSize)
        }
    }

    /// Appends the head of a new task with `outputs` classes; `.standard` draws its values from `rng`,
    /// `.zeros` leaves `rng` untouched. Returns the new head's task index.
    @discardableResult
    public func addHead(outputs: Int, initialization: HeadInitialization, rng: inout RNG) -> Int {
        precondition(outputs > 0, "MultiHeadClassifier.addHead: a head needs at least one output, got \(outputs)")
        switch initialization {
        case .zeros:
            heads.append(Linear(weight: Tensor.zeros([outputs, featureSize]), bias: Tensor.zeros([outputs])))
        case .standard:
            heads.append(Linear(inputSize: featureSize, outputSize: outputs, rng: &rng))
        }
        return heads.count - 1
    }

    /// Concatenated logits of every head: f: [B, F] → [B, outputCount].
    public func callAsFunction(_ features: Tensor) -> Tensor { logits(features, tasks: 0..<heads.count) }

    /// Concatenated logits of the heads of `tasks` (e.g. the old heads 0..<t for distillation):
    /// f: [B, F] → [B, Σ outputs of those heads].
    public func logits(_ features: Tensor, tasks: Range<Int>) -> Tensor {
        precondition(!tasks.isEmpty && tasks.upperBound <= heads.count,
                     "MultiHeadClassifier: heads \(tasks) asked for, \(heads.count) present")
        let parts = heads[tasks].map { $0(features) }
        return parts.count == 1 ? parts[0] : Tensor.concat(parts, axis: 1)
    }

    /// The task whose head holds output `k` of the concatenated logits.
    public func task(ofOutput k: Int) -> Int {
        guard let t = outputRanges.firstIndex(where: { $0.contains(k) }) else {
            preconditionFailure("MultiHeadClassifier: output \(k) is outside the \(outputCount) outputs")
        }
        return t
    }

    /// A twin built with fewer heads gets the original's remaining heads (values follow in `clone`).
    override public func adoptStructure(of original: Module) throws {
        guard let original = original as? MultiHeadClassifier, original.featureSize == featureSize else {
            throw LabError.invalidArgument("MultiHeadClassifier.adoptStructure: the original is not a multi-head classifier on \(featureSize) features")
        }
        guard heads.count <= original.heads.count,
              zip(heads, original.heads).allSatisfy({ $0.outputSize == $1.outputSize }) else {
            throw LabError.invalidArgument("""
                MultiHeadClassifier.adoptStructure: the twin's heads \(heads.map(\.outputSize)) are not a prefix of \
                the original's \(original.heads.map(\.outputSize))
                """)
        }
        var unused = RNG(seed: 0)
        for head in original.heads[heads.count...] {
            addHead(outputs: head.outputSize, initialization: .zeros, rng: &unused)
        }
    }
}
