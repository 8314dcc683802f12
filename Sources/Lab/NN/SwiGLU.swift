import Foundation

/// The activation points of a gated FFN that a hook may read or rewrite (activation-sparsity notation):
/// x = the FFN input (`input`, width d), g = SiLU(W_g x) (`gate`, width m), u = W_u x (`up`, width m) and
/// h = g ⊙ u (`intermediate`, width m, the input of W_d).
public enum FFNHookPoint: String, CaseIterable, Sendable {
    case input, gate, up, intermediate
}

/// A hook on a gated FFN: called with each point's tensor, returns the tensor that continues the forward
/// (the same one to only read it). Rewrites propagate: a rewritten x feeds W_g and W_u, a rewritten g or u
/// changes h, a rewritten h feeds W_d.
public typealias FFNHook = (FFNHookPoint, Tensor) -> Tensor

/// SwiGLU feed-forward block (Shazeer 2020, arXiv 2002.05202), as in Llama: FFN(x) = W_d (SiLU(W_g x) ⊙ W_u x),
/// no biases. x: [.., d] → [.., d]; hidden width m.
///
///     let ffn = SwiGLU(dimension: 64, hiddenSize: 176, rng: &rng)
///     let y = ffn(x) { point, t in point == .input ? t.sparsified(.topP(0.9)) : t }
public final class SwiGLU: Module {
    public let gate: Linear, up: Linear, down: Linear

    /// Weights as `Linear`'s default init; models re-initialise them as their paper says.
    public init(dimension: Int, hiddenSize: Int, rng: inout RNG) {
        gate = Linear(inputSize: dimension, outputSize: hiddenSize, bias: false, rng: &rng)
        up = Linear(inputSize: dimension, outputSize: hiddenSize, bias: false, rng: &rng)
        down = Linear(inputSize: hiddenSize, outputSize: dimension, bias: false, rng: &rng)
    }

    /// x: [.., d] → [.., d]; `hook` (if any) sees input, gate, up and intermediate in that order.
    public func callAsFunction(_ x: Tensor, hook: FFNHook? = nil) -> Tensor {
        guard let hook else { return down(gate(x).silu() * up(x)) }
        let input = hook(.input, x)
        let g = hook(.gate, gate(input).silu())
        let u = hook(.up, up(input))
        return down(hook(.intermediate, g * u))
    }
}
