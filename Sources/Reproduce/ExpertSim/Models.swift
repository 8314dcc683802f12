import Lab

// The networks of ExpertSim (docs/papers/expertsim.md §3.2): a conditional DCGAN generator and discriminator per expert, one
// shared auxiliary regressor, and the router. Sizes are ours (the paper's expert is larger: a 256-unit MLP
// and 128-256 channels); `ModelWidth.wide` is the single generator of about three experts' size (B2).

/// Layer widths of one generator/discriminator pair.
struct ModelWidth: Sendable {
    /// Hidden units of the generator's first Linear and of the discriminator's first Linear.
    let hidden: Int
    /// Generator channels: the [C, 14, 8] seed map and the first convolution; then the narrow convolution.
    let generatorChannels: Int, generatorNarrowChannels: Int
    /// Discriminator channels of its two stride-2 convolutions.
    let discriminatorChannels: (Int, Int)

    /// One expert (and B1, B3).
    static let expert = ModelWidth(hidden: 64, generatorChannels: 16, generatorNarrowChannels: 4, discriminatorChannels: (8, 16))
    /// B2: every width scaled by 1.75, so G and D each have about 3x an expert's parameters.
    static let wide = ModelWidth(hidden: 112, generatorChannels: 28, generatorNarrowChannels: 7, discriminatorChannels: (14, 28))
}

/// Slope of every leaky ReLU (as in the authors' code).
let leakySlope: Float = 0.1
let noiseSize = 10, conditionSize = 9
let imageHeight = 56, imageWidth = 30

/// G(z, c): concat(z, c) [B, 19] → Linear → BN1d → LReLU → Dropout → Linear (C·14·8) → BN1d → LReLU → Dropout
/// → [B, C, 14, 8] → up x2 → Conv3x3 C→C → BN2d → LReLU → up x2 → [B, C, 56, 32] → Conv3x3 C→C' → BN2d → LReLU
/// → Conv3x3 C'→1 → columns 1..30 (`preActivation`) → ReLU → [B, 1, 56, 30], an image in log(1 + photons).
final class Generator: Module {
    let input: Linear, inputNorm: BatchNorm, inputDropout: Dropout
    let seedMap: Linear, seedNorm: BatchNorm, seedDropout: Dropout
    let convolution: Conv2d, convolutionNorm: BatchNorm
    let narrow: Conv2d, narrowNorm: BatchNorm
    let output: Conv2d
    let channels: Int

    init(width: ModelWidth, rng: inout RNG) {
        channels = width.generatorChannels
        input = Linear(inputSize: noiseSize + conditionSize, outputSize: width.hidden, rng: &rng)
        inputNorm = BatchNorm(features: width.hidden)
        inputDropout = Dropout(probability: 0.2, seed: rng.next())
        seedMap = Linear(inputSize: width.hidden, outputSize: channels * 14 * 8, rng: &rng)
        seedNorm = BatchNorm(features: channels * 14 * 8)
        seedDropout = Dropout(probability: 0.2, seed: rng.next())
        convolution = Conv2d(inputChannels: channels, outputChannels: channels, kernelSize: 3, padding: 1, rng: &rng)
        convolutionNorm = BatchNorm(features: channels)
        narrow = Conv2d(inputChannels: channels, outputChannels: width.generatorNarrowChannels, kernelSize: 3, padding: 1, rng: &rng)
        narrowNorm = BatchNorm(features: width.generatorNarrowChannels)
        output = Conv2d(inputChannels: width.generatorNarrowChannels, outputChannels: 1, kernelSize: 3, padding: 1, rng: &rng)
    }

    /// z: [B, 10], c: [B, 9] → [B, 1, 56, 30]
    func callAsFunction(noise z: Tensor, conditions c: Tensor) -> Tensor {
        preActivation(noise: z, conditions: c).relu()
    }

    /// The final convolution's output before the output ReLU: z: [B, 10], c: [B, 9] → [B, 1, 56, 30]. A pixel
    /// whose value is ≤ 0 is 0 in the image and passes no gradient back to the generator.
    func preActivation(noise z: Tensor, conditions c: Tensor) -> Tensor {
        let batch = z.shape[0]
        var h = inputDropout(inputNorm(input(Tensor.concat([z, c], axis: 1))).leakyRelu(slope: leakySlope))
        h = seedDropout(seedNorm(seedMap(h)).leakyRelu(slope: leakySlope))
        h = h.reshaped([batch, channels, 14, 8]).upsampleNearest(scale: 2)                 // [B, C, 28, 16]
        h = convolutionNorm(convolution(h)).leakyRelu(slope: leakySlope).upsampleNearest(scale: 2)  // [B, C, 56, 32]
        h = narrowNorm(narrow(h)).leakyRelu(slope: leakySlope)                             // [B, C', 56, 32]
        return output(h).slice(axis: 3, 1..<(1 + imageWidth))                              // [B, 1, 56, 30]
    }

    /// Forward multiply-accumulates per image (Linear in·out; Conv kH·kW·Cin·Cout·Hout·Wout).
    var multiplyAccumulates: Int {
        input.inputSize * input.outputSize + seedMap.inputSize * seedMap.outputSize
            + 9 * channels * channels * 28 * 16
            + 9 * channels * narrow.weight.shape[0] * 56 * 32
            + 9 * narrow.weight.shape[0] * 56 * 32
    }
}

/// D(x, c): Conv3x3 s2 1→C1 [C1, 28, 15] → BN → LReLU → Conv3x3 s2 C1→C2 [C2, 14, 8] → BN → LReLU → flatten ⊕ c
/// → Linear hidden → LReLU → Linear 32 (the latent h of the diversity loss) → Linear 1 (logit).
final class Discriminator: Module {
    let first: Conv2d, firstNorm: BatchNorm
    let second: Conv2d, secondNorm: BatchNorm
    let hidden: Linear, latent: Linear, head: Linear

    init(width: ModelWidth, rng: inout RNG) {
        let (c1, c2) = width.discriminatorChannels
        first = Conv2d(inputChannels: 1, outputChannels: c1, kernelSize: 3, stride: 2, padding: 1, rng: &rng)
        firstNorm = BatchNorm(features: c1)
        second = Conv2d(inputChannels: c1, outputChannels: c2, kernelSize: 3, stride: 2, padding: 1, rng: &rng)
        secondNorm = BatchNorm(features: c2)
        hidden = Linear(inputSize: c2 * 14 * 8 + conditionSize, outputSize: width.hidden, rng: &rng)
        latent = Linear(inputSize: width.hidden, outputSize: 32, rng: &rng)
        head = Linear(inputSize: 32, outputSize: 1, rng: &rng)
    }

    /// x: [B, 1, 56, 30], c: [B, 9] → (logits [B, 1], latent h [B, 32])
    func callAsFunction(_ x: Tensor, conditions c: Tensor) -> (logits: Tensor, latent: Tensor) {
        var h = firstNorm(first(x)).leakyRelu(slope: leakySlope)         // [B, C1, 28, 15]
        h = secondNorm(second(h)).leakyRelu(slope: leakySlope)           // [B, C2, 14, 8]
        h = hidden(Tensor.concat([h.flattened(), c], axis: 1)).leakyRelu(slope: leakySlope)
        let features = latent(h)
        return (head(features), features)
    }
}

/// A(x): Conv3x3 s2 1→16 → LReLU → Conv3x3 s2 16→32 → LReLU → global average pool (features φ, 32-d) →
/// Linear 32 → LReLU → Linear 2, the predicted position of the brightest pixel in [0, 1]².
final class AuxiliaryRegressor: Module {
    let first: Conv2d, second: Conv2d, hidden: Linear, output: Linear

    init(rng: inout RNG) {
        first = Conv2d(inputChannels: 1, outputChannels: 16, kernelSize: 3, stride: 2, padding: 1, rng: &rng)
        second = Conv2d(inputChannels: 16, outputChannels: 32, kernelSize: 3, stride: 2, padding: 1, rng: &rng)
        hidden = Linear(inputSize: 32, outputSize: 32, rng: &rng)
        output = Linear(inputSize: 32, outputSize: 2, rng: &rng)
    }

    /// x: [B, 1, 56, 30] → (positions [B, 2], features φ [B, 32])
    func callAsFunction(_ x: Tensor) -> (positions: Tensor, features: Tensor) {
        let features = second(first(x).leakyRelu(slope: leakySlope)).leakyRelu(slope: leakySlope).globalAvgPool()
        return (output(hidden(features).leakyRelu(slope: leakySlope)), features)
    }
}

/// R(c): MLP 9 → 32 → 16 → N experts (LReLU 0.1), the routing logits.
final class Router: Module {
    let first: Linear, second: Linear, output: Linear

    init(experts: Int, rng: inout RNG) {
        first = Linear(inputSize: conditionSize, outputSize: 32, rng: &rng)
        second = Linear(inputSize: 32, outputSize: 16, rng: &rng)
        output = Linear(inputSize: 16, outputSize: experts, rng: &rng)
    }

    /// c: [B, 9] → logits [B, N]
    func callAsFunction(_ c: Tensor) -> Tensor {
        output(second(first(c).leakyRelu(slope: leakySlope)).leakyRelu(slope: leakySlope))
    }

    var multiplyAccumulates: Int {
        first.inputSize * first.outputSize + second.inputSize * second.outputSize + output.inputSize * output.outputSize
    }
}
