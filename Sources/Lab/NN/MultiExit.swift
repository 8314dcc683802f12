/// A network with internal classifiers ("exits"): one forward pass returns the logits of every exit, in
/// the order the input reaches them; the last exit is the final classifier. Early-exit papers train on the
/// sum of the exits' losses and evaluate the exit rule afterwards on the collected logits
/// (`EarlyExitCurve`), so the forward pass never stops early itself.
///
///     final class TwoExitMLP: Module, MultiExitModel {
///         var body: Linear, early: Linear, late: Linear
///         var exitCount: Int { 2 }
///         func exits(_ x: Tensor) -> [Tensor] { let h = body(x).relu(); return [early(h), late(h)] }
///     }
///     let logits = model.exits(x)            // [logits of exit 1 [B, C], logits of exit 2 [B, C]]
public protocol MultiExitModel: Module {
    /// Number of exits K (internal classifiers plus the final one).
    var exitCount: Int { get }
    /// x: [B, ...] → K logits tensors [B, classes], exit 1 first.
    func exits(_ x: Tensor) -> [Tensor]
}

extension MultiExitModel {
    /// Every exit's logits over `batches`, stacked along the batch: K tensors [N, classes] with N the total
    /// number of rows. Runs in eval mode without recording gradients (and restores training mode after).
    public func exitLogits<Batches: Sequence>(over batches: Batches) -> [Tensor] where Batches.Element == Tensor {
        let wasTraining = isTraining
        eval()
        defer { if wasTraining { train() } }
        var parts = [[Tensor]](repeating: [], count: exitCount)
        noGrad {
            for x in batches {
                let logits = exits(x)
                precondition(logits.count == exitCount,
                             "MultiExitModel.exitLogits: exits(_:) returned \(logits.count) tensors, exitCount is \(exitCount)")
                for (k, z) in logits.enumerated() { parts[k].append(z) }
            }
        }
        precondition(!parts[0].isEmpty, "MultiExitModel.exitLogits: no batches")
        return parts.map { $0.count == 1 ? $0[0] : Tensor.concat($0, axis: 0) }
    }
}
