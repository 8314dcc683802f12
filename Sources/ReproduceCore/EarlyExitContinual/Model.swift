import Lab
import LabContinual

/// Which exits a network has: the early-exit (EE) network with three internal classifiers (ICs) and the final
/// exit, or the base network (the same backbone, final exit only).
public enum NetworkVariant: String, CaseIterable, Sendable {
    case base, earlyExit = "EE"
}

/// The multi-head, multi-exit CNN of docs/papers/early-exit-continual.md §3 for 1 × 28 × 28 images: 3 × 3
/// convolutions (stride 1, padding 1) with ReLU, no normalisation, PyTorch's default Kaiming-uniform init.
///
///     B1: conv 1→8 @28², maxpool 2, conv 8→8 @14²    IC1: mixed pool → 8·7·7 = 392
///     B2: conv 8→16 @14², maxpool 2                  IC2: mixed pool → 16·3·3 = 144
///     B3: conv 16→24 @7²                             IC3: mixed pool → 24·3·3 = 216
///     B4: conv 24→24 @7²                             final: flatten 24·7·7 = 1,176
///
/// An IC pools with `MixedPool2d` (α·max + (1 − α)·avg, SDN's "standard_conv") and flattens. Every exit holds
/// a `MultiHeadClassifier` (one `Linear(F_k → classes of task t)` per task, added by `addTask`); `exitHeads`
/// is an array of modules, so `parameters`, `stateDict` and `clone` see every head of every exit.
public final class ContinualExitNetwork: Module, MultiExitModel {
    public let variant: NetworkVariant
    let block1a: Conv2d, block1b: Conv2d, block2: Conv2d, block3: Conv2d, block4: Conv2d
    /// The ICs' pooling (EE only: three; base: none).
    public let pools: [MixedPool2d]
    /// One multi-head classifier per exit, exit 1 first (EE: 4, base: 1).
    public let exitHeads: [MultiHeadClassifier]

    /// Feature sizes of IC1..IC3 and of the final exit.
    public static let featureSizes = [392, 144, 216, 1_176]

    public init(variant: NetworkVariant, rng: inout RNG) {
        self.variant = variant
        func conv(_ input: Int, _ output: Int) -> Conv2d {
            Conv2d(inputChannels: input, outputChannels: output, kernelSize: 3, padding: 1, rng: &rng)
        }
        block1a = conv(1, 8); block1b = conv(8, 8); block2 = conv(8, 16); block3 = conv(16, 24); block4 = conv(24, 24)
        switch variant {
        case .earlyExit:
            pools = (0..<3).map { _ in MixedPool2d(kernel: 2, rng: &rng) }
            exitHeads = Self.featureSizes.map { MultiHeadClassifier(featureSize: $0) }
        case .base:
            pools = []
            exitHeads = [MultiHeadClassifier(featureSize: Self.featureSizes[3])]
        }
    }

    public var exitCount: Int { exitHeads.count }
    public var taskCount: Int { exitHeads[0].taskCount }
    /// outputRanges[t]: task t's outputs in the concatenated (task-agnostic) logits.
    public var outputRanges: [Range<Int>] { exitHeads[0].outputRanges }

    /// Adds the head of a new task with `outputs` classes to every exit (PyTorch's default Linear init, drawn
    /// from `rng` exit by exit).
    public func addTask(outputs: Int, rng: inout RNG) {
        for heads in exitHeads { heads.addHead(outputs: outputs, initialization: .standard, rng: &rng) }
    }

    /// Each exit's features, exit 1 first: x [B, 1, 28, 28] → [B, F_k].
    public func exitFeatures(_ x: Tensor) -> [Tensor] {
        let h1 = block1b(block1a(x).relu().maxPool2d(kernel: 2)).relu()    // [B, 8, 14, 14]
        let h2 = block2(h1).relu().maxPool2d(kernel: 2)                     // [B, 16, 7, 7]
        let h3 = block3(h2).relu()                                          // [B, 24, 7, 7]
        let h4 = block4(h3).relu()                                          // [B, 24, 7, 7]
        let final = h4.flattened()
        guard variant == .earlyExit else { return [final] }
        return zip(pools, [h1, h2, h3]).map { pool, h in pool(h).flattened() } + [final]
    }

    /// Task-agnostic logits of every exit: x → K tensors [B, Σ outputs of the heads so far].
    public func exits(_ x: Tensor) -> [Tensor] { zip(exitHeads, exitFeatures(x)).map { heads, f in heads(f) } }

    /// The MACs of every convolution and linear layer on one image (heads at `totalClasses` outputs, as the
    /// network has after the last task), by block and exit; pooling and ReLU not counted (as fvcore).
    public func exitCosts(totalClasses: Int) -> ExitCosts {
        var costs = ExitCosts(exitCount: exitCount)
        var side = 28
        for (name, layer, block, poolAfter) in [("block1a", block1a, 1, true), ("block1b", block1b, 1, false),
                                                ("block2", block2, 2, true), ("block3", block3, 3, false),
                                                ("block4", block4, 4, false)] {
            let counted = MACs.conv2d(layer, inputHeight: side, inputWidth: side)
            costs.add(name, macs: counted.macs, block: min(block, exitCount))
            side = poolAfter ? counted.outputHeight / 2 : counted.outputHeight
        }
        for (k, heads) in exitHeads.enumerated() {
            costs.add("heads\(k + 1)", macs: MACs.linear(inputs: heads.featureSize, outputs: totalClasses), head: k + 1)
        }
        return costs
    }

    /// c_k = (MACs to reach exit k) / (MACs of the base network), docs/papers/early-exit-continual.md §3: the
    /// normalisation of the authors' code, so the full EE pass costs more than 1.
    public static func relativeExitCosts(totalClasses: Int) -> [Double] {
        var scratch = RNG(seed: 0)
        let base = ContinualExitNetwork(variant: .base, rng: &scratch).exitCosts(totalClasses: totalClasses).exitMACs[0]
        return ContinualExitNetwork(variant: .earlyExit, rng: &scratch).exitCosts(totalClasses: totalClasses).exitMACs
            .map { Double($0) / Double(base) }
    }
}
