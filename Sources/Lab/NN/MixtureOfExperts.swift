import Foundation

// Mixture-of-experts conversion of a dense FFN y = W2 φ(W1 x + b1) + b2 (MoEfication, Zhang et al. 2022,
// arXiv 2110.01786; D2DMoE, Szatkowski et al. 2024, arXiv 2310.04361): the m hidden neurons are split into E
// experts (disjoint index sets), a router scores the experts per token, a gating rule selects some, and only the
// selected experts' neurons are computed. Shapes: x [N, d], a = φ(W1 x + b1) [N, m], W2 [d, m], scores [N, E].

/// A split of an FFN's m neurons into experts: `experts[e]` are the neuron indices of expert e.
public struct ExpertPartition: Sendable, Equatable {
    public let experts: [[Int]]
    public let neuronCount: Int

    public init(experts: [[Int]], neuronCount: Int) {
        precondition(experts.allSatisfy { $0.allSatisfy { (0..<neuronCount).contains($0) } },
                     "ExpertPartition: a neuron index outside 0..<\(neuronCount)")
        self.experts = experts
        self.neuronCount = neuronCount
    }

    public var count: Int { experts.count }

    /// Neurons that belong to no expert or to more than one (0 for a partition).
    public var misassignedNeurons: Int {
        var uses = [Int](repeating: 0, count: neuronCount)
        for expert in experts { for i in expert { uses[i] += 1 } }
        return uses.filter { $0 != 1 }.count
    }

    /// max over experts of |size − m/E| (0 for equal experts; m/E rounded down).
    public var maxSizeDeviation: Int { experts.map { abs($0.count - neuronCount / max(count, 1)) }.max() ?? 0 }

    /// The expert of each neuron (the last one listing it; −1 for none).
    public var expertOfNeuron: [Int] {
        var owner = [Int](repeating: -1, count: neuronCount)
        for (e, expert) in experts.enumerated() { for i in expert { owner[i] = e } }
        return owner
    }
}

/// Which experts run for each token, from router scores s [N, E] (flat, row-major).
public enum ExpertGating: Sendable, Equatable {
    /// D2DMoE's dynamic-k: select e iff s_e ≥ τ · max_j s_j (τ = 0 selects every expert when scores are ≥ 0;
    /// τ = 1 the argmax and its ties).
    case dynamicK(tau: Double)
    /// Static top-k: the k largest scores (ties to the lower index); k ≥ E selects all.
    case topK(Int)

    /// The selection mask [N·E] of scores [N·E].
    public func select(scores: [Float], experts: Int) -> [Bool] {
        precondition(experts > 0 && scores.count % experts == 0, "ExpertGating: \(scores.count) scores are not rows of \(experts)")
        let tokens = scores.count / experts
        var selected = [Bool](repeating: false, count: scores.count)
        for t in 0..<tokens {
            let row = t * experts
            switch self {
            case .dynamicK(let tau):
                var largest = -Float.infinity
                for e in 0..<experts { largest = max(largest, scores[row + e]) }
                let threshold = Float(tau) * largest
                for e in 0..<experts { selected[row + e] = scores[row + e] >= threshold }
            case .topK(let k):
                if k >= experts {
                    for e in 0..<experts { selected[row + e] = true }
                } else {
                    let order = (0..<experts).sorted { scores[row + $0] != scores[row + $1] ? scores[row + $0] > scores[row + $1] : $0 < $1 }
                    for e in order.prefix(max(k, 0)) { selected[row + e] = true }
                }
            }
        }
        return selected
    }
}

/// The number of selected experts of each token: selection [N·E] → [N].
public func selectedCounts(_ selection: [Bool], experts: Int) -> [Int] {
    stride(from: 0, to: selection.count, by: experts).map { row in (row..<row + experts).reduce(0) { $0 + (selection[$1] ? 1 : 0) } }
}

/// The FFN activations with the neurons of unselected experts zeroed: a [N, m], selection [N·E] → [N, m].
/// W2 (this) + b2 equals running only the selected experts (their outputs summed, plus b2). No gradient.
public func maskedExpertActivations(_ activations: Tensor, partition: ExpertPartition, selection: [Bool]) -> Tensor {
    let m = partition.neuronCount, experts = partition.count
    let tokens = activations.count / max(m, 1)
    precondition(activations.shape.last == m && selection.count == tokens * experts,
                 "maskedExpertActivations: activations \(activations.shape), \(selection.count) selections for \(experts) experts")
    let owner = partition.expertOfNeuron
    var data = activations.data
    for t in 0..<tokens {
        for i in 0..<m where !selection[t * experts + owner[i]] { data[t * m + i] = 0 }
    }
    return Tensor(shape: activations.shape, data: data)
}

/// Each expert's output W2_e a_e (a_e: the expert's neurons, W2_e: their columns of W2), per token, by one GEMM
/// per expert. activations [N, m], downWeight W2 [d, m] → E tensors [N, d]. No gradient.
public func expertOutputs(_ activations: Tensor, downWeight: Tensor, partition: ExpertPartition) -> [Tensor] {
    precondition(activations.shape.last == partition.neuronCount && downWeight.rank == 2 && downWeight.shape[1] == partition.neuronCount,
                 "expertOutputs: activations \(activations.shape), W2 \(downWeight.shape) for \(partition.neuronCount) neurons")
    let a = activations.reshaped([activations.count / partition.neuronCount, partition.neuronCount])
    return noGrad {
        partition.experts.map { neurons in
            a.indexSelect(axis: 1, neurons).matmul(downWeight.indexSelect(axis: 1, neurons), transposeB: true)
        }
    }
}

/// D2DMoE's router target: the L2 norm ‖W2_e a_e(x)‖₂ of each expert's output. → [N·E] (row-major [N, E]).
public func expertOutputNorms(_ activations: Tensor, downWeight: Tensor, partition: ExpertPartition) -> [Float] {
    let outputs = expertOutputs(activations, downWeight: downWeight, partition: partition)
    let d = downWeight.shape[0], experts = partition.count
    let tokens = outputs.first.map { $0.count / d } ?? 0
    var norms = [Float](repeating: 0, count: tokens * experts)
    for (e, output) in outputs.enumerated() {
        output.data.withUnsafeBufferPointer { o in
            for t in 0..<tokens {
                var square: Float = 0
                for j in 0..<d { square += o[t * d + j] * o[t * d + j] }
                norms[t * experts + e] = square.squareRoot()
            }
        }
    }
    return norms
}

/// MoEfication's router target before normalisation: the summed activation u_e = Σ_{i∈e} a_i of each expert.
/// activations [N, m] → [N·E].
public func expertActivationSums(_ activations: Tensor, partition: ExpertPartition) -> [Float] {
    let m = partition.neuronCount, experts = partition.count
    let tokens = activations.count / max(m, 1)
    var sums = [Float](repeating: 0, count: tokens * experts)
    activations.data.withUnsafeBufferPointer { a in
        for t in 0..<tokens {
            for (e, neurons) in partition.experts.enumerated() {
                var s: Float = 0
                for i in neurons { s += a[t * m + i] }
                sums[t * experts + e] = s
            }
        }
    }
    return sums
}

/// The MoE layer's output computed expert by expert: Σ_{e selected} W2_e a_e + b2. activations [N, m],
/// W2 [d, m], b2 [d], selection [N·E] → [N, d]. With every expert selected it equals W2 a + b2 up to the order of
/// the summation (the exactness check of a conversion). No gradient.
public func expertSumOutput(_ activations: Tensor, downWeight: Tensor, downBias: Tensor?, partition: ExpertPartition,
                            selection: [Bool]) -> Tensor {
    let outputs = expertOutputs(activations, downWeight: downWeight, partition: partition)
    let d = downWeight.shape[0], experts = partition.count
    let tokens = activations.count / partition.neuronCount
    precondition(selection.count == tokens * experts, "expertSumOutput: \(selection.count) selections for \(tokens) tokens × \(experts) experts")
    var y = [Float](repeating: 0, count: tokens * d)
    if let bias = downBias { for t in 0..<tokens { for j in 0..<d { y[t * d + j] = bias.data[j] } } }
    for (e, output) in outputs.enumerated() {
        output.data.withUnsafeBufferPointer { o in
            for t in 0..<tokens where selection[t * experts + e] {
                for j in 0..<d { y[t * d + j] += o[t * d + j] }
            }
        }
    }
    return Tensor(shape: Array(activations.shape.dropLast()) + [d], data: y)
}

/// A small per-layer router: s(x) = W_b φ(W_a x + b_a) + b_b with hidden width h. D2DMoE's norm router uses
/// φ = ReLU and outputs |s| (predicted expert output norms, ≥ 0); MoEfication's router uses φ = tanh and
/// outputs logits. x: [N, d] → [N, E].
public final class ExpertRouter: Module {
    public enum Kind: String, Sendable { case norm, logits }
    public let kind: Kind
    public let hidden: Linear, output: Linear

    public init(kind: Kind, inputSize: Int, hiddenSize: Int, experts: Int, rng: inout RNG) {
        self.kind = kind
        hidden = Linear(inputSize: inputSize, outputSize: hiddenSize, rng: &rng)
        output = Linear(inputSize: hiddenSize, outputSize: experts, rng: &rng)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch kind {
        case .norm: return output(hidden(x).relu()).abs()
        case .logits: return output(hidden(x).tanh())
        }
    }
}
