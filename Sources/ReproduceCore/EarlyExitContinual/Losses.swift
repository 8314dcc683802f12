import Lab

/// The continual-learning methods of docs/papers/early-exit-continual.md §3.
public enum ContinualMethodKind: String, CaseIterable, Sendable {
    /// Finetuning: CE on the current task's head only.
    case finetuning = "FT"
    /// Learning without Forgetting: FT's CE plus task-wise distillation from the previous model, exit by exit.
    case lwf = "LwF"
    /// Experience replay: a class-balanced buffer merged into the next task's training set, CE over all heads.
    case replay = "ER"
    /// One training on every task together (the upper bound), CE over all heads.
    case joint = "Joint"
}

/// The SDN-style ramp of the exit weights (docs/papers/early-exit-continual.md §3): for IC k,
/// w_k(e) = 0.01 + (e / (E − 1))·(w̄_k − 0.01) at epoch e = 0...E−1 of a task; the final exit weighs 1.
/// With E = 1 the ramp is at its end (w̄_k).
public struct ExitWeightRamp: Sendable, Equatable {
    /// w̄_k of IC1...IC(K−1).
    public let icTargets: [Double]
    public let epochs: Int

    public init(icTargets: [Double], epochs: Int) {
        precondition(epochs >= 1, "ExitWeightRamp: epochs must be at least 1, got \(epochs)")
        self.icTargets = icTargets
        self.epochs = epochs
    }

    /// The weights of all K = icTargets.count + 1 exits at epoch e (a network with one exit: [1]).
    public func weights(epoch e: Int, exitCount: Int) -> [Double] {
        guard exitCount > 1 else { return [1] }
        precondition(exitCount == icTargets.count + 1, "ExitWeightRamp: \(exitCount) exits, \(icTargets.count) IC targets")
        let progress = epochs == 1 ? 1 : Double(e) / Double(epochs - 1)
        return icTargets.map { 0.01 + progress * ($0 - 0.01) } + [1]
    }
}

/// LwF's task-wise distillation at one exit (docs/papers/early-exit-continual.md §3):
/// KD = Σ_{j < t} KL(softmax(z^old_j / T) ‖ softmax(z_j / T))·T², each term a batch mean, where z_j are the
/// logits of head j of this exit and z^old_j those of the same exit of the frozen previous model.
/// student, teacher: the old heads' logits, one [B, C_j] tensor per head j < t. Gradients reach the student only.
public func taskwiseDistillation(student: [Tensor], teacher: [Tensor], temperature: Float) -> Tensor {
    precondition(!student.isEmpty && student.count == teacher.count,
                 "taskwiseDistillation: \(student.count) student heads, \(teacher.count) teacher heads")
    let terms = zip(student, teacher).map { distillationLoss(student: $0, teacher: $1, temperature: temperature) }
    return terms.dropFirst().reduce(terms[0], +)
}
