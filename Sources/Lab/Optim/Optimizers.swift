import CLabKernels
import Foundation

/// The shared part of every optimizer: the parameters, a mutable learning rate, optional static masks, and
/// `step()` / `zeroGrad()`. Parameters without a gradient (or frozen) are skipped.
///
/// Static sparse training: `setMask(mask, for: weight)` multiplies the gradient and the optimizer's state
/// (momentum, moments) by the mask before the update and re-zeroes the weight outside it afterwards, so
/// weights outside the mask stay exactly 0.
open class Optimizer {
    public let parameters: [Tensor]
    /// The learning rate used by the next `step()`; schedules set it every step.
    public var learningRate: Float
    /// Number of `step()` calls so far.
    public private(set) var stepCount = 0
    private var masks: [ObjectIdentifier: Tensor] = [:]

    public init(parameters: [Tensor], learningRate: Float) {
        self.parameters = parameters
        self.learningRate = learningRate
    }

    /// Fixes a 0/1 mask for one parameter (same shape).
    public func setMask(_ mask: Tensor, for parameter: Tensor) {
        precondition(mask.shape == parameter.shape, "setMask: mask \(mask.shape) for parameter \(parameter.shape)")
        masks[ObjectIdentifier(parameter)] = mask
        noGrad { parameter.data = zip(parameter.data, mask.data).map { $0 * $1 } }
    }

    public func zeroGrad() { for p in parameters { p.grad = nil } }

    /// Applies one update to every parameter that has a gradient.
    public func step() {
        stepCount += 1
        for (i, p) in parameters.enumerated() {
            guard p.requiresGrad, let g = p.grad else { continue }
            let mask = masks[ObjectIdentifier(p)]
            if let m = mask { multiply(&g.data, by: m.data) }
            update(index: i, parameter: p, gradient: g.data, mask: mask?.data)
            if let m = mask { multiply(&p.data, by: m.data) }
        }
    }

    /// The update rule of one parameter; `gradient` is already masked. Subclasses mask their state with `mask`.
    open func update(index: Int, parameter: Tensor, gradient: [Float], mask: [Float]?) {
        fatalError("Optimizer subclasses implement update(index:parameter:gradient:mask:)")
    }

    func multiply(_ values: inout [Float], by mask: [Float]) {
        values.withUnsafeMutableBufferPointer { v in mask.withUnsafeBufferPointer { m in for i in 0..<v.count { v[i] *= m[i] } } }
    }
}

/// Stochastic gradient descent with momentum (Polyak 1964; Sutskever et al. 2013), Nesterov option and
/// L2 weight decay, as PyTorch's SGD: g ← g + λ·p; v ← μ·v + g; p ← p − η·(Nesterov ? g + μ·v : v).
public final class SGD: Optimizer {
    public let momentum: Float, weightDecay: Float, nesterov: Bool
    private var velocity: [[Float]?]

    public init(parameters: [Tensor], learningRate: Float, momentum: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        self.momentum = momentum; self.weightDecay = weightDecay; self.nesterov = nesterov
        velocity = Array(repeating: nil, count: parameters.count)
        super.init(parameters: parameters, learningRate: learningRate)
    }

    override public func update(index: Int, parameter p: Tensor, gradient: [Float], mask: [Float]?) {
        let (lr, mu, wd, nest) = (learningRate, momentum, weightDecay, nesterov)
        let first = velocity[index] == nil
        var v = velocity[index] ?? (mu != 0 ? [Float](repeating: 0, count: p.count) : [])
        velocity[index] = nil   // uniquely referenced: updated in place, no copy
        p.data.withUnsafeMutableBufferPointer { w in
            gradient.withUnsafeBufferPointer { g in
                if mu == 0 {
                    for i in 0..<w.count { w[i] -= lr * (g[i] + wd * w[i]) }
                    return
                }
                v.withUnsafeMutableBufferPointer { vp in
                    for i in 0..<w.count {
                        let gi = g[i] + wd * w[i]
                        vp[i] = first ? gi : mu * vp[i] + gi
                        w[i] -= lr * (nest ? gi + mu * vp[i] : vp[i])
                    }
                }
            }
        }
        if let m = mask, mu != 0 { multiply(&v, by: m) }
        if mu != 0 { velocity[index] = v }
    }
}

/// Adam (Kingma & Ba 2014, arXiv 1412.6980) with bias correction; `decoupledWeightDecay` gives AdamW
/// (Loshchilov & Hutter 2017, arXiv 1711.05101): p ← p − η·λ·p before the Adam step. Otherwise weight decay
/// is L2 (added to the gradient), as in PyTorch's Adam.
public class Adam: Optimizer {
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, decoupledWeightDecay: Bool
    private var m: [[Float]?], v: [[Float]?]
    /// Whether the update runs CLabKernels' AVX2 loop (the same bits as the Swift loop; tests switch it off).
    var useAVX2 = hasAVX2Kernels

    public init(parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        self.weightDecay = weightDecay; self.decoupledWeightDecay = decoupledWeightDecay
        m = Array(repeating: nil, count: parameters.count)
        v = Array(repeating: nil, count: parameters.count)
        super.init(parameters: parameters, learningRate: learningRate)
    }

    override public func update(index: Int, parameter p: Tensor, gradient: [Float], mask: [Float]?) {
        // Take the state out of its slot so it is uniquely referenced and updates in place (no copy).
        var mi = m[index] ?? [Float](repeating: 0, count: p.count)
        var vi = v[index] ?? [Float](repeating: 0, count: p.count)
        m[index] = nil; v[index] = nil
        let t = Float(stepCount)
        let (b1, b2, eps, wd) = (beta1, beta2, epsilon, weightDecay)
        let c1 = 1 / (1 - Foundation.pow(b1, t)), c2 = 1 / (1 - Foundation.pow(b2, t))
        let step = learningRate * c1
        let shrink = decoupledWeightDecay ? 1 - learningRate * wd : 1   // AdamW: p ← p − η·λ·p
        let l2 = decoupledWeightDecay ? 0 : wd                           // Adam: g ← g + λ·p
        let useAVX2 = self.useAVX2
        // Elementwise, so the update is the same for any split over threads.
        p.data.withUnsafeMutableBufferPointer { wp in
            gradient.withUnsafeBufferPointer { gp in
                mi.withUnsafeMutableBufferPointer { mp in
                    vi.withUnsafeMutableBufferPointer { vp in
                        guard let w0 = wp.baseAddress, let g0 = gp.baseAddress else { return }  // empty parameter
                        let buffers = UncheckedSendable((w0, g0, mp.baseAddress!, vp.baseAddress!))
                        Parallel.forChunks(wp.count, costPerItem: 8) { lo, hi in
                            let (w, g, m, v) = buffers.value
                            if useAVX2 {  // the same operations 8 lanes at a time (the Swift loop stays scalar)
                                lab_adam_avx2(w + lo, g + lo, m + lo, v + lo, hi - lo, l2, b1, 1 - b1, b2, 1 - b2, c2,
                                              shrink, step, eps)
                                return
                            }
                            for i in lo..<hi {
                                let gi = g[i] + l2 * w[i]
                                let mn = b1 * m[i] + (1 - b1) * gi
                                let vn = b2 * v[i] + (1 - b2) * gi * gi
                                m[i] = mn
                                v[i] = vn
                                w[i] = shrink * w[i] - step * mn / ((vn * c2).squareRoot() + eps)
                            }
                        }
                    }
                }
            }
        }
        if let mk = mask { multiply(&mi, by: mk); multiply(&vi, by: mk) }
        m[index] = mi; v[index] = vi
    }
}

/// AdamW: Adam with decoupled weight decay (default λ = 0.01, as in PyTorch).
public final class AdamW: Adam {
    public init(parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0.01) {
        super.init(parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                   weightDecay: weightDecay, decoupledWeightDecay: true)
    }
}

/// Scales all gradients so their global L2 norm is at most `maxNorm` (Pascanu et al. 2013). Returns the
/// norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    var total = 0.0
    for p in parameters { if let g = p.grad { for x in g.data { total += Double(x) * Double(x) } } }
    let norm = Float(total.squareRoot())
    if norm > maxNorm {
        let s = maxNorm / (norm + 1e-6)
        for p in parameters { if let g = p.grad { g.data.withUnsafeMutableBufferPointer { for i in 0..<$0.count { $0[i] *= s } } } }
    }
    return norm
}
