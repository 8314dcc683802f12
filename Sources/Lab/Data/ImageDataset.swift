import Lab

/// Per-channel affine normalisation of pixels scaled to [0, 1]: x = (p / maxPixel − mean[c]) / std[c].
public struct Normalization: Sendable, Equatable {
    public var mean: [Float]
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count, "Normalization: \(mean.count) means but \(std.count) stds")
        precondition(std.allSatisfy { $0 > 0 }, "Normalization: std must be positive, got \(std)")
        self.mean = mean
        self.std = std
    }

    /// The same (mean, std) on every one of `channels` channels, e.g. (0.5, 0.5) maps [0, 1] to [−1, 1].
    public init(mean: Float, std: Float, channels: Int = 1) {
        self.init(mean: Array(repeating: mean, count: channels), std: Array(repeating: std, count: channels))
    }

    /// No shift or scale: x = p / maxPixel, in [0, 1].
    public static func unit(channels: Int = 1) -> Normalization { Normalization(mean: 0, std: 1, channels: channels) }
}

/// Images stored compactly as UInt8 pixels [N, C, H, W] with integer labels; batches come out as Float32
/// `Tensor`s [B, C, H, W], scaled by 1 / maxPixel and normalised on the fly.
///
/// Subsets share the pixel storage (copy on write), so drawing many seeded subsets costs only their indices'
/// copies. Labels are global class ids in 0..<classCount.
///
///     let (train, test) = try FashionMNIST.load()
///     var rng = RNG(seed: 1234)
///     let parts = try train.stratifiedSplit(perClass: [800, 400], rng: &rng)   // train 8,000 / val 4,000
///     let x = parts[0].batch([0, 1, 2])                                          // x: [3, 1, 28, 28]
public struct ImageDataset: Sendable {
    /// Pixels [N, C, H, W] row-major, in 0...maxPixel.
    public private(set) var pixels: [UInt8]
    /// Class of each image, in 0..<classCount.
    public private(set) var labels: [Int]
    public let channels: Int
    public let height: Int
    public let width: Int
    /// The largest pixel value of the source (255 for MNIST-style images, 16 for sklearn digits).
    public let maxPixel: Float
    /// Size of the label space (labels may use only part of it, e.g. after `filter(classes:)`).
    public private(set) var classCount: Int
    /// Applied to every batch; `.unit` unless set.
    public var normalization: Normalization

    public var count: Int { labels.count }
    /// C × H × W.
    public var imageSize: Int { channels * height * width }

    /// Checks that `pixels` holds `labels.count` images of [channels, height, width] and that every label is
    /// in 0..<classCount (`invalidArgument` otherwise).
    public init(pixels: [UInt8], labels: [Int], channels: Int, height: Int, width: Int, maxPixel: Float = 255,
                classCount: Int, normalization: Normalization? = nil) throws {
        // Overflow-checked: the extents may come from a file header.
        let (plane, planeOverflow) = height.multipliedReportingOverflow(by: width)
        let (size, sizeOverflow) = plane.multipliedReportingOverflow(by: channels)
        let (total, totalOverflow) = size.multipliedReportingOverflow(by: labels.count)
        guard channels > 0, height > 0, width > 0, !planeOverflow, !sizeOverflow, !totalOverflow, pixels.count == total else {
            throw LabError.invalidArgument(
                "ImageDataset: \(pixels.count) pixels do not hold \(labels.count) images of [\(channels), \(height), \(width)]")
        }
        if let bad = labels.first(where: { $0 < 0 || $0 >= classCount }) {
            throw LabError.invalidArgument("ImageDataset: label \(bad) is outside 0..<\(classCount)")
        }
        let normalization = normalization ?? .unit(channels: channels)
        guard normalization.mean.count == channels else {
            throw LabError.invalidArgument(
                "ImageDataset: normalisation has \(normalization.mean.count) channels, images have \(channels)")
        }
        self.pixels = pixels
        self.labels = labels
        self.channels = channels
        self.height = height
        self.width = width
        self.maxPixel = maxPixel
        self.classCount = classCount
        self.normalization = normalization
    }

    // MARK: - Batches

    /// The images at `indices` as a normalised batch: x: [B, C, H, W].
    public func batch(_ indices: [Int]) -> Tensor {
        let size = imageSize
        let plane = height * width
        let scale = 1 / maxPixel
        let shifts = normalization.mean, invStds = normalization.std.map { 1 / $0 }
        return Tensor(shape: [indices.count, channels, height, width]) { out in
            pixels.withUnsafeBufferPointer { source in
                for (b, index) in indices.enumerated() {
                    precondition(index >= 0 && index < count, "ImageDataset.batch: index \(index) outside 0..<\(count)")
                    for c in 0..<channels {
                        let from = index * size + c * plane, to = b * size + c * plane
                        let shift = shifts[c], invStd = invStds[c]
                        for i in 0..<plane { out[to + i] = (Float(source[from + i]) * scale - shift) * invStd }
                    }
                }
            }
        }
    }

    /// The labels at `indices`.
    public func labels(_ indices: [Int]) -> [Int] { indices.map { labels[$0] } }

    /// All images as one batch: x: [N, C, H, W].
    public func allImages() -> Tensor { batch(Array(0..<count)) }

    /// Per-channel mean and std of p / maxPixel over all images (Float64 sums): the normalisation
    /// "computed from the training split".
    public func computedNormalization() -> Normalization {
        // Sums from a per-channel histogram of the 256 pixel values: exact, and one integer pass over the pixels.
        let plane = height * width
        var histograms = [Int](repeating: 0, count: channels * 256)   // [C, 256]
        pixels.withUnsafeBufferPointer { source in
            histograms.withUnsafeMutableBufferPointer { histogram in
                for n in 0..<count {
                    for c in 0..<channels {
                        let from = n * imageSize + c * plane
                        for i in 0..<plane { histogram[c * 256 + Int(source[from + i])] += 1 }
                    }
                }
            }
        }
        let total = Double(count * plane)
        var means: [Float] = [], stds: [Float] = []
        for c in 0..<channels {
            var sum = 0.0, squares = 0.0
            for (value, frequency) in histograms[c * 256..<(c + 1) * 256].enumerated() where frequency > 0 {
                let v = Double(value) / Double(maxPixel)
                sum += Double(frequency) * v
                squares += Double(frequency) * v * v
            }
            let mean = sum / total
            means.append(Float(mean))
            stds.append(Float(max(squares / total - mean * mean, 1e-12).squareRoot()))
        }
        return Normalization(mean: means, std: stds)
    }

    /// A copy whose batches use `normalization`.
    public func normalized(_ normalization: Normalization) -> ImageDataset {
        var copy = self
        copy.normalization = normalization
        return copy
    }

    // MARK: - Subsets

    /// The images at `indices`, in that order.
    public func subset(_ indices: [Int]) -> ImageDataset {
        var copy = self
        let size = imageSize
        var newPixels = [UInt8](repeating: 0, count: indices.count * size)
        pixels.withUnsafeBufferPointer { source in
            newPixels.withUnsafeMutableBufferPointer { target in
                for (b, index) in indices.enumerated() {
                    precondition(index >= 0 && index < count, "ImageDataset.subset: index \(index) outside 0..<\(count)")
                    for i in 0..<size { target[b * size + i] = source[index * size + i] }
                }
            }
        }
        copy.pixels = newPixels
        copy.labels = indices.map { labels[$0] }
        return copy
    }

    /// Indices of each class, in file order: result[c] lists the images of class c.
    public func indicesByClass() -> [[Int]] {
        var byClass = [[Int]](repeating: [], count: classCount)
        for (i, label) in labels.enumerated() { byClass[label].append(i) }
        return byClass
    }

    /// How many images each class has: [classCount].
    public func classCounts() -> [Int] { indicesByClass().map(\.count) }

    /// The classes that occur, ascending.
    public var presentClasses: [Int] { indicesByClass().enumerated().filter { !$0.element.isEmpty }.map(\.offset) }

    /// Disjoint class-balanced draws: part j holds `perClass[j]` images of every present class, drawn without
    /// replacement by a seeded shuffle of each class. Parts list their images class by class, in drawn order.
    /// A class with fewer than `perClass.reduce(0, +)` images is an `invalidArgument` error.
    ///
    ///     let parts = try train.stratifiedSplit(perClass: [800, 400], rng: &rng)   // train, validation
    public func stratifiedSplit(perClass: [Int], rng: inout RNG) throws -> [ImageDataset] {
        let needed = perClass.reduce(0, +)
        var parts = [[Int]](repeating: [], count: perClass.count)
        for (c, members) in indicesByClass().enumerated() where !members.isEmpty {
            guard members.count >= needed else {
                throw LabError.invalidArgument(
                    "stratifiedSplit: class \(c) has \(members.count) images, \(needed) needed (\(perClass) per class)")
            }
            var shuffled = members
            rng.shuffle(&shuffled)
            var start = 0
            for (j, k) in perClass.enumerated() {
                parts[j] += shuffled[start..<start + k]
                start += k
            }
        }
        return parts.map(subset)
    }

    /// `k` images of every present class, drawn with a seeded shuffle (one part of `stratifiedSplit`).
    public func balancedSubset(perClass k: Int, rng: inout RNG) throws -> ImageDataset {
        try stratifiedSplit(perClass: [k], rng: &rng)[0]
    }

    /// The first `k` images of every present class in file order (e.g. "the first 500 per class of the
    /// official test file"); a class with fewer is an `invalidArgument` error.
    public func firstPerClass(_ k: Int) throws -> ImageDataset {
        var chosen: [Int] = []
        for (c, members) in indicesByClass().enumerated() where !members.isEmpty {
            guard members.count >= k else {
                throw LabError.invalidArgument("firstPerClass: class \(c) has \(members.count) images, \(k) needed")
            }
            chosen += members.prefix(k)
        }
        return subset(chosen.sorted())
    }

    /// A seeded random split into parts of the given fractions (summing to 1; the last part takes the rest).
    public func randomSplit(fractions: [Double], rng: inout RNG) -> [ImageDataset] {
        precondition(abs(fractions.reduce(0, +) - 1) < 1e-9, "randomSplit: fractions \(fractions) do not sum to 1")
        let order = rng.permutation(count)
        var parts: [ImageDataset] = []
        var start = 0
        for (j, fraction) in fractions.enumerated() {
            let end = j == fractions.count - 1 ? count : min(count, start + Int((fraction * Double(count)).rounded()))
            parts.append(subset(Array(order[start..<end])))
            start = end
        }
        return parts
    }

    // MARK: - Classes and labels

    /// Only the images whose label is in `classes`, in file order; labels keep their global ids.
    public func filter(classes: [Int]) -> ImageDataset {
        let wanted = Set(classes)
        return subset(labels.indices.filter { wanted.contains(labels[$0]) })
    }

    /// Labels mapped through `mapping` (old -> new) into a label space of `classCount` classes; images whose
    /// label the mapping lacks are dropped. Used for local task labels (e.g. {4: 0, 5: 1}).
    public func relabeled(_ mapping: [Int: Int], classCount: Int) throws -> ImageDataset {
        if let bad = mapping.sorted(by: { $0.key < $1.key }).first(where: { $0.value < 0 || $0.value >= classCount }) {
            throw LabError.invalidArgument("relabeled: new label \(bad.value) (for \(bad.key)) is outside 0..<\(classCount)")
        }
        var kept = filter(classes: Array(mapping.keys))
        kept.labels = kept.labels.map { mapping[$0]! }
        kept.classCount = classCount
        return kept
    }

    /// Every label shifted by `offset` in a label space of `classCount` classes (MNIST digit d -> 10 + d);
    /// a shifted label outside 0..<classCount is an `invalidArgument` error.
    public func offsettingLabels(by offset: Int, classCount: Int) throws -> ImageDataset {
        var mapping: [Int: Int] = [:]
        for c in 0..<self.classCount { mapping[c] = c + offset }
        return try relabeled(mapping, classCount: classCount)
    }

    /// The images of several datasets of the same image shape and pixel range, one after the other; the label
    /// space is the largest of theirs. Normalisation is the first dataset's.
    ///
    ///     // Fashion c -> c, digit d -> 10 + d: 20 classes of the same 28x28 format
    ///     let both = try ImageDataset.concatenating([fashion, mnist.offsettingLabels(by: 10, classCount: 20)])
    public static func concatenating(_ parts: [ImageDataset]) throws -> ImageDataset {
        guard let first = parts.first else { throw LabError.invalidArgument("concatenating: no datasets given") }
        for part in parts where part.channels != first.channels || part.height != first.height
            || part.width != first.width || part.maxPixel != first.maxPixel {
            throw LabError.invalidArgument(
                "concatenating: images [\(part.channels), \(part.height), \(part.width)] max \(part.maxPixel) differ from "
                    + "[\(first.channels), \(first.height), \(first.width)] max \(first.maxPixel)")
        }
        return try ImageDataset(
            pixels: parts.flatMap(\.pixels), labels: parts.flatMap(\.labels), channels: first.channels,
            height: first.height, width: first.width, maxPixel: first.maxPixel,
            classCount: parts.map(\.classCount).max()!, normalization: first.normalization)
    }
}
