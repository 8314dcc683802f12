import Lab

/// Simple image augmentation, applied per sample in the order: random crop with zero padding, horizontal
/// flip (pixel space, before normalisation), then additive Gaussian noise (normalised space).
public struct Augmentation: Sendable, Equatable {
    /// Pad every side with `cropPadding` zero pixels, then crop H x W at a uniformly random offset (0 = off).
    public var cropPadding: Int
    /// Probability of mirroring left-right (only where meaningful: not for digits).
    public var flipProbability: Double
    /// Standard deviation of N(0, σ²) noise added to the normalised input (0 = off).
    public var noiseStd: Float

    public init(cropPadding: Int = 0, flipProbability: Double = 0, noiseStd: Float = 0) {
        precondition(cropPadding >= 0 && (0...1).contains(flipProbability) && noiseStd >= 0,
                     "Augmentation: padding \(cropPadding), flip \(flipProbability), noise \(noiseStd) out of range")
        self.cropPadding = cropPadding
        self.flipProbability = flipProbability
        self.noiseStd = noiseStd
    }

    /// Augments one normalised image in place. `image`: [C, H, W]; `zero` is the normalised value of pixel 0
    /// per channel (what padding shows).
    func apply(to image: UnsafeMutableBufferPointer<Float>, channels: Int, height: Int, width: Int,
               zero: [Float], rng: inout RNG) {
        let plane = height * width
        if cropPadding > 0 {
            let dy = rng.int(below: 2 * cropPadding + 1) - cropPadding
            let dx = rng.int(below: 2 * cropPadding + 1) - cropPadding
            if dy != 0 || dx != 0 {
                let source = Array(image)
                for c in 0..<channels {
                    for y in 0..<height {
                        for x in 0..<width {
                            let sy = y + dy, sx = x + dx
                            image[c * plane + y * width + x] = (0..<height).contains(sy) && (0..<width).contains(sx)
                                ? source[c * plane + sy * width + sx] : zero[c]
                        }
                    }
                }
            }
        }
        if flipProbability > 0, rng.bernoulli(flipProbability) {
            for c in 0..<channels {
                for y in 0..<height {
                    let row = c * plane + y * width
                    for x in 0..<width / 2 { image.swapAt(row + x, row + width - 1 - x) }
                }
            }
        }
        if noiseStd > 0 {
            for i in image.indices { image[i] += noiseStd * Float(rng.normal()) }
        }
    }
}

/// Batches of a dataset (or of some of its rows): x: [B, C, H, W] normalised Float32, y: [B] labels.
///
/// The loader's orders come from one seeded stream: epoch e's order is the (e+1)-th permutation drawn from
/// `rng` (as a PyTorch sampler whose generator persists across epochs), and epoch e's augmentation from
/// `rng.derived("augment/<e>")`. So a fresh loader with the same stream replays the same epochs.
///
///     var loader = DataLoader(train, batchSize: 32, rng: RNG(seed: 0))
///     for _ in 0..<5 { for (x, y) in loader.nextEpoch() { ... } }
public struct DataLoader: Sendable {
    public let dataset: ImageDataset
    /// The rows of `dataset` drawn from (every row by default); without shuffling, batches follow this order.
    public let indices: [Int]
    public let batchSize: Int
    public let shuffle: Bool
    /// A last batch with fewer images is dropped: 1 keeps every image, `batchSize` gives full batches only.
    public let minimumBatchSize: Int
    public let augmentation: Augmentation?
    public let rng: RNG
    /// The order stream, advanced by one permutation per shuffled epoch.
    private var orderRNG: RNG
    /// Epochs handed out so far.
    public private(set) var epoch = 0

    public init(_ dataset: ImageDataset, indices: [Int]? = nil, batchSize: Int, shuffle: Bool = true,
                minimumBatchSize: Int = 1, augmentation: Augmentation? = nil, rng: RNG) {
        precondition(batchSize > 0 && (1...batchSize).contains(minimumBatchSize),
                     "DataLoader: batchSize \(batchSize) and minimumBatchSize \(minimumBatchSize) need 1 ≤ minimum ≤ batch")
        self.dataset = dataset
        self.indices = indices ?? Array(0..<dataset.count)
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.minimumBatchSize = minimumBatchSize
        self.augmentation = augmentation
        self.rng = rng
        self.orderRNG = rng
    }

    /// Number of batches in an epoch: the full ones, plus the remainder when it holds `minimumBatchSize` images.
    public var batchCount: Int {
        indices.count / batchSize + (indices.count % batchSize >= minimumBatchSize ? 1 : 0)
    }

    /// The batches of the next epoch (its order drawn now, its batches made lazily one at a time).
    public mutating func nextEpoch() -> Batches {
        let order = shuffle ? orderRNG.permutation(indices.count).map { indices[$0] } : indices
        defer { epoch += 1 }
        return Batches(loader: self, order: order, batchCount: batchCount, augmentRNG: rng.derived("augment/\(epoch)"))
    }

    /// A lazy sequence of (x: [B, C, H, W], y: [B]) batches.
    public struct Batches: Sequence, IteratorProtocol {
        let loader: DataLoader
        /// The epoch's dataset rows, in order.
        public let order: [Int]
        let batchCount: Int
        var augmentRNG: RNG
        var made = 0

        public mutating func next() -> (x: Tensor, y: [Int])? {
            guard made < batchCount else { return nil }
            let size = loader.batchSize
            let indices = Array(order[(made * size)..<Swift.min((made + 1) * size, order.count)])
            made += 1
            let data = loader.dataset
            let x = data.batch(indices)
            if let augmentation = loader.augmentation {
                let zero = zip(data.normalization.mean, data.normalization.std).map { -$0 / $1 }
                x.data.withUnsafeMutableBufferPointer { all in
                    for b in 0..<indices.count {
                        let image = UnsafeMutableBufferPointer(rebasing: all[b * data.imageSize..<(b + 1) * data.imageSize])
                        augmentation.apply(to: image, channels: data.channels, height: data.height,
                                           width: data.width, zero: zero, rng: &augmentRNG)
                    }
                }
            }
            return (x, data.labels(indices))
        }
    }
}
