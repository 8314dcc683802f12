/// Named activation points of a Llama forward that a caller can read or rewrite in place.
///
/// Per layer ℓ (FFN notation of the activation-sparsity paper): x = RMSNorm(residual) feeding the FFN
/// (`ffnInput`, width d), g = SiLU(W_g x) (`gate`, width m), u = W_u x (`up`, width m), h = g ⊙ u
/// (`intermediate`, width m, the input of W_down), the residual stream after the block (`residual`, width d),
/// and, once after the last layer, the final-norm hidden state of the rows that get logits (`finalHidden`,
/// width d; with `.lastToken` or `.none` logits that is the last token of each sequence).
/// Rewrites propagate: a rewritten x feeds W_g and W_u, a rewritten g or u changes h, a rewritten h feeds W_down.
public enum LlamaHookPoint: String, CaseIterable, Sendable {
    case ffnInput = "input", gate, up, intermediate, residual, finalHidden
}

/// A mutable view of one activation, [tokens, width] with a row stride, on the forward's own buffer (no copy).
/// Valid only during the hook call. Rows are the packed tokens of all sequences: sequence s owns rows
/// `sequenceOffsets[s] ..< sequenceOffsets[s + 1]` (for `finalHidden`: see `LlamaHookPoint`).
public struct ActivationView {
    public let layer: Int
    public let point: LlamaHookPoint
    public let tokens: Int
    public let width: Int
    public let rowStride: Int
    public let base: UnsafeMutablePointer<Float>
    public let sequenceOffsets: [Int]

    /// Row t as a mutable buffer of `width` floats.
    @inline(__always)
    public func row(_ t: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: base + t * rowStride, count: width)
    }

    @inline(__always)
    public subscript(token: Int, feature: Int) -> Float {
        get { base[token * rowStride + feature] }
        nonmutating set { base[token * rowStride + feature] = newValue }
    }

    /// A contiguous copy, [tokens · width] row-major.
    public func copy() -> [Float] {
        var out = [Float](repeating: 0, count: tokens * width)
        for t in 0..<tokens { for j in 0..<width { out[t * width + j] = base[t * rowStride + j] } }
        return out
    }
}

/// The closures a forward calls, one per point at most; each receives the view (with its layer and point) and
/// decides itself which layers it acts on. Points without a closure cost nothing.
public struct LlamaHooks {
    var handlers: [LlamaHookPoint: (ActivationView) -> Void] = [:]

    public init() {}

    /// Registers `body` for `point` (replacing an earlier one).
    public mutating func on(_ point: LlamaHookPoint, _ body: @escaping (ActivationView) -> Void) {
        handlers[point] = body
    }

    public func has(_ point: LlamaHookPoint) -> Bool { handlers[point] != nil }

    @inline(__always)
    func call(_ point: LlamaHookPoint, layer: Int, base: UnsafeMutablePointer<Float>, tokens: Int, width: Int,
              rowStride: Int, sequenceOffsets: [Int]) {
        guard !handlers.isEmpty, let h = handlers[point] else { return }  // no hashing when none is set
        h(ActivationView(layer: layer, point: point, tokens: tokens, width: width, rowStride: rowStride,
                         base: base, sequenceOffsets: sequenceOffsets))
    }
}
