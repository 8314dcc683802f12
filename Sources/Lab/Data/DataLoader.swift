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

/// Batches of a dataset: x: [B, C, H, W] normalised Float32, y: [B] labels.
///
/// Epoch e's order and augmentation depend only on the loader's RNG seed and e (streams derived per epoch),
/// so any epoch can be replayed and results do not depend on how earlier epochs were consumed.
///
///     let loader = DataLoader(train, batchSize: 32, shuffle: true, rng: RNG(seed: 0))
///     for epoch in 0..<5 { for (x, y) in loader.batches(epoch: epoch) { ... } }
public struct DataLoader: Sendable {
    public let dataset: ImageDataset
    public let batchSize: Int
    public let shuffle: Bool
    /// Drop the last batch when it is smaller than `batchSize`.
    public let dropLast: Bool
    public let augmentation: Augmentation?
    public let rng: RNG

    public init(_ dataset: ImageDataset, batchSize: Int, shuffle: Bool = true, dropLast: Bool = false,
                augmentation: Augmentation? = nil, rng: RNG) {
        precondition(batchSize > 0, "DataLoader: batchSize must be positive, got \(batchSize)")
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.augmentation = augmentation
        self.rng = rng
    }

    /// Number of batches in an epoch.
    public var batchCount: Int {
        dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// The sample order of epoch `epoch`: a seeded permutation, or 0..<N without shuffling.
    public func order(epoch: Int) -> [Int] {
        guard shuffle else { return Array(0..<dataset.count) }
        var epochRNG = rng.derived("order/\(epoch)")
        return epochRNG.permutation(dataset.count)
    }

    /// The batches of epoch `epoch`, made lazily one at a time.
    public func batches(epoch: Int) -> Batches { Batches(loader: self, order: order(epoch: epoch), epoch: epoch) }

    /// A lazy sequence of (x: [B, C, H, W], y: [B]) batches.
    public struct Batches: Sequence, IteratorProtocol {
        let loader: DataLoader
        let order: [Int]
        var start = 0
        var augmentRNG: RNG

        init(loader: DataLoader, order: [Int], epoch: Int) {
            self.loader = loader
            self.order = order
            self.augmentRNG = loader.rng.derived("augment/\(epoch)")
        }

        public mutating func next() -> (x: Tensor, y: [Int])? {
            let end = Swift.min(start + loader.batchSize, order.count)
            if start >= end || (loader.dropLast && end - start < loader.batchSize) { return nil }
            let indices = Array(order[start..<end])
            start = end
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
