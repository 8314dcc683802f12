import Foundation

/// Softmax cross-entropy of logits [N, C] against class indices, averaged over the counted rows.
///
/// loss_n = −Σ_c q_c log softmax(x_n)_c with q = (1 − ε)·onehot(y_n) + ε/C (label smoothing ε, Szegedy et
/// al. 2016). Rows whose target equals `ignoreIndex` count for nothing. Optional per-row `weights` w_n give
/// Σ w_n·loss_n / (number of counted rows) (e.g. the masked-diffusion 1/t weighting).
/// Fused: one pass computes log-sum-exp per row; the gradient is (softmax − q)·w/N.
public func crossEntropy(_ logits: Tensor, targets: [Int], labelSmoothing: Float = 0, ignoreIndex: Int? = nil,
                         weights: [Float]? = nil) -> Tensor {
    precondition(logits.rank == 2, "crossEntropy: logits must be [N, C], got \(logits.shape)")
    let (n, c) = (logits.shape[0], logits.shape[1])
    precondition(targets.count == n, "crossEntropy: \(targets.count) targets for logits \(logits.shape)")
    if let w = weights { precondition(w.count == n, "crossEntropy: \(w.count) weights for \(n) rows") }
    for t in targets where t != ignoreIndex {
        precondition(t >= 0 && t < c, "crossEntropy: target \(t) out of range 0..<\(c)")
    }
    let counted = targets.filter { $0 != ignoreIndex }.count
    var lse = [Float](repeating: 0, count: n)
    var total = 0.0
    logits.data.withUnsafeBufferPointer { x in
        for r in 0..<n where targets[r] != ignoreIndex {
            let row = r * c
            var m = -Float.infinity
            for j in 0..<c { m = max(m, x[row + j]) }
            var s: Float = 0
            var rowSum: Float = 0
            for j in 0..<c { s += fastExp(x[row + j] - m); rowSum += x[row + j] }
            lse[r] = m + log(s)
            var loss = (1 - labelSmoothing) * (lse[r] - x[row + targets[r]])
            if labelSmoothing > 0 { loss += labelSmoothing * (lse[r] - rowSum / Float(c)) }
            total += Double(loss * (weights?[r] ?? 1))
        }
    }
    let out = Tensor(Float(total / Double(max(counted, 1))))
    return out.recorded(logits) { g in
        let scale = g.item / Float(max(counted, 1))
        var dx = [Float](repeating: 0, count: logits.count)
        logits.data.withUnsafeBufferPointer { x in
            for r in 0..<n where targets[r] != ignoreIndex {
                let row = r * c
                let w = scale * (weights?[r] ?? 1)
                for j in 0..<c { dx[row + j] = w * (fastExp(x[row + j] - lse[r]) - labelSmoothing / Float(c)) }
                dx[row + targets[r]] -= w * (1 - labelSmoothing)
            }
        }
        logits.accumulateGrad(dx)
    }
}

/// Negative log-likelihood of log-probabilities [N, C] at the target indices, averaged.
public func nllLoss(_ logProbabilities: Tensor, targets: [Int]) -> Tensor {
    -logProbabilities.gather(columns: targets).mean()
}

/// Mean squared error.
public func mseLoss(_ prediction: Tensor, _ target: Tensor) -> Tensor { (prediction - target).square().mean() }

/// Mean absolute error (L1).
public func l1Loss(_ prediction: Tensor, _ target: Tensor) -> Tensor { (prediction - target).abs().mean() }

/// Binary cross-entropy on logits, mean over elements, in the stable form
/// max(x, 0) − x·y + log(1 + e^−|x|); the gradient is σ(x) − y.
public func bceWithLogits(_ logits: Tensor, targets: Tensor) -> Tensor {
    precondition(logits.shape == targets.shape || targets.count == 1,
                 "bceWithLogits: logits \(logits.shape) vs targets \(targets.shape)")
    let y = targets.count == 1 ? Tensor.full(logits.shape, targets.data[0]) : targets
    var total = 0.0
    for i in 0..<logits.count {
        let x = logits.data[i]
        total += Double(max(x, 0) - x * y.data[i] + log1p(fastExp(-abs(x))))
    }
    let n = Float(max(logits.count, 1))
    return Tensor(Float(total) / n).recorded(logits, y) { g in
        let s = g.item / n
        if logits.requiresGrad {
            logits.accumulateGrad((0..<logits.count).map { s * (fastSigmoid(logits.data[$0]) - y.data[$0]) })
        }
        if y.requiresGrad { y.accumulateGrad((0..<logits.count).map { -s * logits.data[$0] }) }
    }
}

/// KL(p_teacher ‖ p_student) with both distributions softened by temperature T, times T² (Hinton et al.
/// 2015, arXiv 1503.02531), averaged over rows. logits: [N, C].
public func distillationLoss(student: Tensor, teacher: Tensor, temperature: Float = 1) -> Tensor {
    precondition(student.shape == teacher.shape, "distillationLoss: student \(student.shape) vs teacher \(teacher.shape)")
    let logQ = (student / temperature).logSoftmax(axis: -1)
    let logP = noGrad { (teacher / temperature).logSoftmax(axis: -1) }
    let p = logP.exp()
    let kl = (p * (logP - logQ)).sum(axis: -1).mean()
    return kl * (temperature * temperature)
}

/// KL divergence Σ p (log p − log q) between log-probabilities, averaged over rows (gradients to both).
public func klDivergence(logP: Tensor, logQ: Tensor) -> Tensor {
    (logP.exp() * (logP - logQ)).sum(axis: -1).mean()
}

/// LwF's distillation loss in its authors' form (Li & Hoiem 2016, arXiv 1606.09282; FACIL's `cross_entropy`
/// with `exp = 1/T`): p_T = softmax(z_T/T), p_S = softmax(z_S/T), p̃_S = (p_S + ε/K)/(1 + ε),
/// L = −(1/B) Σ_b Σ_k p_T,bk log p̃_S,bk. The teacher gets no gradient. It contains the teacher's entropy, so it
/// is not 0 when the two agree. student, teacher: [B, K] logits.
public func softenedDistillationCrossEntropy(student: Tensor, teacher: Tensor, temperature: Float = 2,
                                             epsilon: Float = 1e-5) -> Tensor {
    precondition(student.rank == 2 && student.shape == teacher.shape,
                 "softenedDistillationCrossEntropy: student \(student.shape) vs teacher \(teacher.shape)")
    let classes = Float(student.shape[1])
    let target = noGrad { (teacher / temperature).softmax(axis: -1) }
    let smoothed = ((student / temperature).softmax(axis: -1) + epsilon / classes) / (1 + epsilon)
    return -(target * smoothed.log()).sum(axis: -1).mean()
}

/// Multi-label sigmoid distillation (iCaRL, arXiv 1611.07725; LwF.MC in FACIL): each old output is a binary
/// problem whose soft target is the teacher's sigmoid, L = Σ_k (1/B) Σ_b BCE(σ(z_S,bk), σ(z_T,bk)) with
/// BCE(p, q) = −[q log p + (1 − q) log(1 − p)], computed from the student's logits (softplus form). The teacher
/// gets no gradient. student, teacher: [B, K] logits.
public func sigmoidDistillationLoss(student: Tensor, teacher: Tensor) -> Tensor {
    precondition(student.rank == 2 && student.shape == teacher.shape,
                 "sigmoidDistillationLoss: student \(student.shape) vs teacher \(teacher.shape)")
    let target = noGrad { teacher.sigmoid() }
    return bceWithLogits(student, targets: target) * Float(student.shape[1])
}
