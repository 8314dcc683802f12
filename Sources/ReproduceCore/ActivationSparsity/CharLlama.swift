import Foundation
import Lab

/// One rung of the size ladder (docs/papers/activation-sparsity.md §3): width d, layers, heads (head dim 16), SwiGLU width m.
public struct LadderSize: Sendable, Equatable {
    public let name: String
    public let width: Int
    public let layers: Int
    public let heads: Int
    public let ffnWidth: Int

    public init(name: String, width: Int, layers: Int, heads: Int, ffnWidth: Int) {
        self.name = name; self.width = width; self.layers = layers; self.heads = heads; self.ffnWidth = ffnWidth
    }

    public static let l1 = LadderSize(name: "L1", width: 32, layers: 2, heads: 2, ffnWidth: 88)
    public static let l2 = LadderSize(name: "L2", width: 64, layers: 2, heads: 4, ffnWidth: 176)
    public static let l3 = LadderSize(name: "L3", width: 96, layers: 3, heads: 6, ffnWidth: 256)
    public static let l4 = LadderSize(name: "L4", width: 128, layers: 4, heads: 8, ffnWidth: 344)
    public static let all = [l1, l2, l3, l4]
}

/// A pre-norm Llama-style decoder block: x += Attn(RMSNorm(x)); x += SwiGLU(RMSNorm(x)).
final class LlamaBlock: Module {
    let attentionNorm: RMSNorm
    let attention: MultiHeadAttention
    let ffnNorm: RMSNorm
    let ffn: SwiGLU

    init(size: LadderSize, causal: Bool, rng: inout RNG) {
        attentionNorm = RMSNorm(features: size.width, epsilon: 1e-5)
        attention = MultiHeadAttention(dimension: size.width, heads: size.heads, causal: causal, ropeBase: 10_000, rng: &rng)
        ffnNorm = RMSNorm(features: size.width, epsilon: 1e-5)
        ffn = SwiGLU(dimension: size.width, hiddenSize: size.ffnWidth, rng: &rng)
    }
}

/// The ladder's character LM (docs/papers/activation-sparsity.md §3): token embedding (tied with the output head), pre-norm blocks with RMSNorm
/// (ε 1e-5), RoPE attention (base 10,000, adjacent pairs; causal, or bidirectional for the masked-diffusion LM),
/// SwiGLU FFN, no biases; init N(0, 0.02) with the attention and FFN output projections scaled by 1/√(2·layers).
public final class CharLlama: Module, TokenSequenceModel {
    public let size: LadderSize
    public let vocabularySize: Int
    public let causal: Bool
    let embedding: Embedding
    let blocks: [LlamaBlock]
    let finalNorm: RMSNorm

    public init(size: LadderSize, vocabularySize: Int, causal: Bool, rng: inout RNG) {
        self.size = size
        self.vocabularySize = vocabularySize
        self.causal = causal
        embedding = Embedding(vocabularySize: vocabularySize, dimension: size.width, std: 0.02, rng: &rng)
        blocks = (0..<size.layers).map { _ in LlamaBlock(size: size, causal: causal, rng: &rng) }
        finalNorm = RMSNorm(features: size.width, epsilon: 1e-5)
        super.init()
        let outputStd = 0.02 / Double(2 * size.layers).squareRoot()
        for block in blocks {
            for linear in [block.attention.query, block.attention.key, block.attention.value, block.ffn.gate, block.ffn.up] {
                linear.weight.data = (0..<linear.weight.count).map { _ in Float(rng.normal() * 0.02) }
            }
            for linear in [block.attention.output, block.ffn.down] {
                linear.weight.data = (0..<linear.weight.count).map { _ in Float(rng.normal() * outputStd) }
            }
        }
    }

    /// ids: [B·T] (row-major [B, T]) → logits [B·T, vocab]. `hook(layer, point, tensor)` may rewrite FFN
    /// activations of every block (evaluation; the rewrites are not meant to be differentiated).
    public func callAsFunction(_ ids: [Int], batch: Int, length: Int,
                               hook: ((Int, FFNHookPoint, Tensor) -> Tensor)? = nil) -> Tensor {
        var x = embedding(ids, shape: [batch, length])
        for (l, block) in blocks.enumerated() {
            x = x + block.attention(block.attentionNorm(x))
            let normed = block.ffnNorm(x)
            x = x + (hook.map { h in block.ffn(normed) { point, t in h(l, point, t) } } ?? block.ffn(normed))
        }
        let hidden = finalNorm(x).reshaped([batch * length, size.width])
        return hidden.matmul(embedding.weight, transposeB: true)
    }

    public func logits(_ ids: [Int], batch: Int, length: Int) -> Tensor { self(ids, batch: batch, length: length) }
}

/// LLaDA-style masked-diffusion loss (Nie et al. 2025, arXiv 2502.09992) on windows of length+1 ids (the first
/// `length` are used): per sequence t ~ U(1e-3, 1), each position masked with probability t;
/// loss = (1/(B·L)) Σ_b Σ_{i masked} −log p(x_i | x_t) / t_b.
public func maskedDiffusionLoss(_ model: CharLlama, windows ids: [Int], length: Int, maskID: Int, rng: inout RNG) -> Tensor {
    let span = length + 1, batch = ids.count / span
    var inputs: [Int] = [], targets: [Int] = [], weights: [Float] = []
    for b in 0..<batch {
        let t = 1e-3 + (1 - 1e-3) * rng.uniform()
        for i in 0..<length {
            let token = ids[b * span + i]
            if rng.uniform() < t {
                inputs.append(maskID); targets.append(token); weights.append(Float(1 / t))
            } else {
                inputs.append(token); targets.append(-1); weights.append(0)
            }
        }
    }
    let masked = targets.filter { $0 >= 0 }.count
    guard masked > 0 else { return Tensor(0) }
    // crossEntropy averages over counted (masked) rows; rescale to the 1/(B·L) normalisation.
    let mean = crossEntropy(model(inputs, batch: batch, length: length), targets: targets, ignoreIndex: -1, weights: weights)
    return mean * (Float(masked) / Float(batch * length))
}
