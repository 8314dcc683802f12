import Foundation

/// Whether ops record the gradient tape on the current thread. Recording is on by default; `noGrad { }`
/// turns it off for evaluation. The flag is per thread, so two training jobs on two threads do not interfere.
public enum GradMode {
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()

    /// true when ops on tensors that require gradients record how to differentiate them.
    public static var isEnabled: Bool {
        get { pthread_getspecific(key) == nil }   // nil (the default) means enabled
        set { pthread_setspecific(key, newValue ? nil : UnsafeRawPointer(bitPattern: 1)) }
    }
}

/// Runs `body` without recording the tape (evaluation, metrics, in-place parameter updates).
@discardableResult
public func noGrad<T>(_ body: () throws -> T) rethrows -> T {
    let was = GradMode.isEnabled
    GradMode.isEnabled = false
    defer { GradMode.isEnabled = was }
    return try body()
}

extension Tensor {
    /// Whether an op with these inputs must record its backward closure.
    @inline(__always)
    public static func recording(_ inputs: Tensor...) -> Bool {
        GradMode.isEnabled && inputs.contains { $0.requiresGrad }
    }

    /// Attaches the tape entry of the op that produced `self`: its inputs and the closure that, given
    /// `self`'s gradient, accumulates (+=) each input's gradient. Used by every differentiable op:
    ///
    ///     let out = Tensor(shape: a.shape, data: ...)            // forward
    ///     return out.recorded(a) { g in a.accumulateGrad(...) }   // backward, next to it
    @discardableResult
    public func recorded(_ inputs: Tensor..., backward: @escaping (Tensor) -> Void) -> Tensor {
        recorded(inputs: inputs, backward: backward)
    }

    @discardableResult
    public func recorded(inputs: [Tensor], backward: @escaping (Tensor) -> Void) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return self }
        requiresGrad = true
        parents = inputs.filter { $0.requiresGrad }
        backwardFn = backward
        return self
    }

    /// Adds `g` (same shape as self) into `self.grad` when self requires gradients.
    public func accumulateGrad(_ g: Tensor) {
        guard requiresGrad else { return }
        precondition(g.count == count, "accumulateGrad: gradient \(g.shape) for tensor \(shape)")
        if let existing = grad {
            existing.data.withUnsafeMutableBufferPointer { e in
                g.data.withUnsafeBufferPointer { gp in
                    for i in 0..<e.count { e[i] += gp[i] }
                }
            }
        } else {
            grad = Tensor(shape: shape, data: g.data)
        }
    }

    /// The gradient buffer of this tensor, created as zeros if absent, for kernels that accumulate into it
    /// in place (e.g. GEMM with beta = 1).
    public func ensureGrad() -> Tensor {
        if let g = grad { return g }
        let g = Tensor.zeros(shape)
        grad = g
        return g
    }

    /// Calls `body(buffer, beta)` to add a gradient computed by a GEMM into `self.grad`: with the existing
    /// gradient and beta 1, or, when there is none yet, with a new uninitialised buffer (which becomes `grad`)
    /// and beta 0, so the GEMM writes it without a zero-fill first. (OpenBLAS computes beta 0 as beta 1 on a
    /// zeroed C, so both give the same bits.)
    func accumulateGEMMGrad(_ body: (UnsafeMutablePointer<Float>, _ beta: Float) -> Void) {
        if let g = grad {
            g.data.withUnsafeMutableBufferPointer { body($0.baseAddress!, 1) }
        } else {
            let g = Tensor(shape: shape) { body($0.baseAddress!, 0) }
            grad = g
        }
    }

    /// Adds raw gradient values into `self.grad` (used by kernels that compute gradients into a buffer).
    public func accumulateGrad(_ values: [Float]) {
        accumulateGrad(Tensor(shape: shape, data: values))
    }

    /// Reverse-mode differentiation from this tensor. Seeds its gradient with ones (or `seed`), walks the
    /// tape in reverse topological order and accumulates every reachable input's `grad`. The tape is
    /// released afterwards unless `retainGraph` is true.
    public func backward(seed: Tensor? = nil, retainGraph: Bool = false) {
        precondition(requiresGrad,
                     "backward: tensor \(shape) does not require gradients (no parameter reached it, or noGrad was on)")
        if let s = seed { precondition(s.shape == shape, "backward: seed \(s.shape) for tensor \(shape)") }
        // Iterative post-order DFS: deep networks (1000+ ops) must not overflow the stack.
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Int)] = [(self, 0)]
        visited.insert(ObjectIdentifier(self))
        while let (t, i) = stack.popLast() {
            if i < t.parents.count {
                stack.append((t, i + 1))
                let p = t.parents[i]
                if visited.insert(ObjectIdentifier(p)).inserted, p.backwardFn != nil { stack.append((p, 0)) }
            } else {
                order.append(t)
            }
        }
        accumulateGrad(seed ?? Tensor.ones(shape))
        // Backward closures compute with ordinary ops; they must not record a tape of their own.
        let was = GradMode.isEnabled
        GradMode.isEnabled = false
        defer { GradMode.isEnabled = was }
        for t in order.reversed() {
            guard let fn = t.backwardFn, let g = t.grad else { continue }
            fn(g)
            if !retainGraph {
                t.backwardFn = nil
                t.parents = []
                // Intermediate results do not keep their gradient (as in PyTorch); leaves do.
                if t !== self { t.grad = nil }
            }
        }
    }

    /// Clears the accumulated gradient.
    public func zeroGrad() { grad = nil }
}
