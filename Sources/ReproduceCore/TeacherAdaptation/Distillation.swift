import Foundation
import Lab

/// The knowledge-distillation term of a method (docs/papers/teacher-adaptation.md §3): none (finetuning),
/// LwF's softened cross-entropy, or LwF.MC's sigmoid distillation, on the concatenated logits of the old heads.
public enum Distillation: String, Sendable, CaseIterable {
    case none
    case lwf
    case lwfMultiClass

    /// LwF's temperature τ (training loss and KD error).
    public static let temperature: Float = 2
    /// LwF's smoothing ε of the student's probabilities.
    public static let epsilon: Float = 1e-5

    /// λ: LwF 10 (the paper's value for most CIFAR-100 splits), LwF.MC 1, finetuning 0.
    public var weight: Float {
        switch self {
        case .none: 0
        case .lwf: 10
        case .lwfMultiClass: 1
        }
    }

    /// The training form of L_KD (the student gets the gradient): z_S, z_T: [B, K] old-head logits.
    public func loss(student: Tensor, teacher: Tensor) -> Tensor {
        switch self {
        case .none: Tensor(0)
        case .lwf: softenedDistillationCrossEntropy(student: student, teacher: teacher,
                                                    temperature: Self.temperature, epsilon: Self.epsilon)
        case .lwfMultiClass: sigmoidDistillationLoss(student: student, teacher: teacher)
        }
    }

    /// The KD error D (a diagnostic, 0 exactly when student and teacher agree), from [B, K] logits in
    /// row-major order: LwF: (1/B) Σ_b KL(p_T ‖ p_S) at τ = 2; LwF.MC: (1/B) Σ_b Σ_k KL(Bern(σ(z_T)) ‖ Bern(σ(z_S))).
    /// NaN for finetuning (no teacher).
    public func error(student: [Float], teacher: [Float], classes: Int) -> Double {
        switch self {
        case .none: .nan
        case .lwf: KDError.softmaxKL(student: student, teacher: teacher, classes: classes,
                                     temperature: Double(Self.temperature))
        case .lwfMultiClass: KDError.bernoulliKL(student: student, teacher: teacher, classes: classes)
        }
    }
}

/// The KD errors of docs/papers/teacher-adaptation.md §3, in Float64 from Float32 logits.
public enum KDError {
    /// (1/B) Σ_b Σ_k p_T,bk (log p_T,bk − log p_S,bk) with p = softmax(z/τ) per row of K logits.
    public static func softmaxKL(student: [Float], teacher: [Float], classes: Int, temperature: Double) -> Double {
        precondition(classes > 0 && student.count == teacher.count && student.count % classes == 0,
                     "softmaxKL: \(student.count) student and \(teacher.count) teacher logits in rows of \(classes)")
        let rows = student.count / classes
        var total = 0.0
        for b in 0..<rows {
            let s = student[(b * classes)..<((b + 1) * classes)].map { Double($0) / temperature }
            let t = teacher[(b * classes)..<((b + 1) * classes)].map { Double($0) / temperature }
            let logS = logSoftmax(s), logT = logSoftmax(t)
            for k in 0..<classes { total += exp(logT[k]) * (logT[k] - logS[k]) }
        }
        return total / Double(rows)
    }

    /// (1/B) Σ_b Σ_k [q log(q/p) + (1 − q) log((1 − q)/(1 − p))] with q = σ(z_T), p = σ(z_S), using
    /// log σ(x) = −softplus(−x) and log(1 − σ(x)) = −softplus(x).
    public static func bernoulliKL(student: [Float], teacher: [Float], classes: Int) -> Double {
        precondition(classes > 0 && student.count == teacher.count && student.count % classes == 0,
                     "bernoulliKL: \(student.count) student and \(teacher.count) teacher logits in rows of \(classes)")
        func softplus(_ x: Double) -> Double { max(x, 0) + log1p(exp(-abs(x))) }
        var total = 0.0
        for (zs, zt) in zip(student.map(Double.init), teacher.map(Double.init)) {
            let q = 1 / (1 + exp(-zt))
            total += q * (-softplus(-zt) + softplus(-zs)) + (1 - q) * (-softplus(zt) + softplus(zs))
        }
        return total / Double(student.count / classes)
    }

    static func logSoftmax(_ x: [Double]) -> [Double] {
        let top = x.max()!
        let logSum = top + log(x.reduce(0) { $0 + exp($1 - top) })
        return x.map { $0 - logSum }
    }
}

/// One of the five methods compared: a distillation term, with or without Teacher Adaptation.
public struct Method: Sendable, Hashable {
    public var distillation: Distillation
    /// Teacher Adaptation: the frozen teacher runs in BatchNorm train mode on every training batch.
    public var teacherAdaptation: Bool

    public init(_ distillation: Distillation, teacherAdaptation: Bool = false) {
        precondition(distillation != .none || !teacherAdaptation, "Method: finetuning has no teacher to adapt")
        self.distillation = distillation
        self.teacherAdaptation = teacherAdaptation
    }

    public static let finetuning = Method(.none)
    public static let lwf = Method(.lwf)
    public static let lwfAdapted = Method(.lwf, teacherAdaptation: true)
    public static let lwfMultiClass = Method(.lwfMultiClass)
    public static let lwfMultiClassAdapted = Method(.lwfMultiClass, teacherAdaptation: true)
    /// The table's row order.
    public static let all: [Method] = [.finetuning, .lwf, .lwfAdapted, .lwfMultiClass, .lwfMultiClassAdapted]

    /// "FT", "LwF", "LwF+TA", "LwF.MC", "LwF.MC+TA".
    public var name: String {
        let base = switch distillation {
        case .none: "FT"
        case .lwf: "LwF"
        case .lwfMultiClass: "LwF.MC"
        }
        return teacherAdaptation ? base + "+TA" : base
    }

    /// The method without Teacher Adaptation (itself when it has none).
    public var withoutAdaptation: Method { Method(distillation) }
}
