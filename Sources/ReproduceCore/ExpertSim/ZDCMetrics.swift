import Foundation
import Lab

/// The evaluation of ExpertSim (docs/papers/expertsim.md §3.4): readout channels, the equal-size Wasserstein distance, the
/// per-image quantities the losses use, and the router's best-permutation accuracy.
public enum ZDCMetrics {
    public static let channelCount = 5

    /// The readout channel of every pixel (0-based, as in the authors' code): channels 0-3 are the colour-A
    /// pixels ((row + col) even) of the quadrants (top-left, top-right, bottom-left, bottom-right; rows < 28,
    /// cols < 15), channel 4 is every colour-B pixel. The five masks partition the image.
    public static let channelOfPixel: [Int] = (0..<ZDCSimulator.pixels).map { pixel in
        let (row, column) = (pixel / ZDCSimulator.width, pixel % ZDCSimulator.width)
        if (row + column) & 1 == 1 { return 4 }
        return (row < ZDCSimulator.height / 2 ? 0 : 2) + (column < ZDCSimulator.width / 2 ? 0 : 1)
    }

    /// The 5 channel sums of one image (56·30 counts).
    public static func channelSums<C: Collection>(_ image: C) -> [Double] where C.Element == Float {
        var sums = [Double](repeating: 0, count: channelCount)
        for (pixel, value) in image.enumerated() { sums[channelOfPixel[pixel]] += Double(value) }
        return sums
    }

    /// Channel sums of a batch of images stored back to back: images: [N·1680] → [N][5].
    public static func channelSums(images: [Float]) -> [[Double]] {
        let n = images.count / ZDCSimulator.pixels
        return (0..<n).map { i in channelSums(images[(i * ZDCSimulator.pixels)..<((i + 1) * ZDCSimulator.pixels)]) }
    }

    /// W1 between two equal-size samples: (1/n)·Σ_j |a_(j) − b_(j)| over the sorted samples.
    public static func wasserstein1EqualSize(_ a: [Double], _ b: [Double]) -> Double {
        precondition(a.count == b.count && !a.isEmpty, "wasserstein1EqualSize: samples of \(a.count) and \(b.count)")
        let (sa, sb) = (a.sorted(), b.sorted())
        var total = 0.0
        for j in sa.indices { total += abs(sa[j] - sb[j]) }
        return total / Double(sa.count)
    }

    /// WS_k for k = 1...5 between real and generated channel sums (one generated image per real event).
    /// real, generated: [N][5] → [5].
    public static func channelWasserstein(real: [[Double]], generated: [[Double]]) -> [Double] {
        (0..<channelCount).map { k in wasserstein1EqualSize(real.map { $0[k] }, generated.map { $0[k] }) }
    }

    /// The pixel (row, column) of the largest count, first in row-major order, scaled to [0, 1]:
    /// (column/(W − 1), row/(H − 1)), the auxiliary regressor's target.
    public static func maximumPosition<C: Collection>(_ image: C) -> (x: Double, y: Double) where C.Element == Float {
        var best = -Float.infinity, at = 0
        for (pixel, value) in image.enumerated() where value > best { (best, at) = (value, pixel) }
        return (Double(at % ZDCSimulator.width) / Double(ZDCSimulator.width - 1),
                Double(at / ZDCSimulator.width) / Double(ZDCSimulator.height - 1))
    }

    /// The raw diversity weight of a condition: the mean over pixels of the per-pixel standard deviation
    /// (population std) across its replicas, in log(1 + x) space. replicas: each 56·30 counts.
    public static func replicaSpread(_ replicas: [[Float]]) -> Double {
        precondition(replicas.count >= 2, "replicaSpread: needs at least 2 replicas, got \(replicas.count)")
        let n = Double(replicas.count)
        var total = 0.0
        for pixel in 0..<replicas[0].count {
            var sum = 0.0, squares = 0.0
            for r in replicas {
                let v = Foundation.log1p(Double(r[pixel]))
                sum += v; squares += v * v
            }
            let mean = sum / n
            total += max(squares / n - mean * mean, 0).squareRoot()
        }
        return total / Double(replicas[0].count)
    }

    /// Min-max scaling of `values` with the limits of `reference` (the training set), not clipped.
    public static func minMaxScaled(_ values: [Double], reference: [Double]) -> [Double] {
        guard let low = reference.min(), let high = reference.max(), high > low else {
            return values.map { _ in 0 }
        }
        return values.map { ($0 - low) / (high - low) }
    }

    /// The tercile (0, 1, 2) of each value against the 1/3 and 2/3 quantiles of `reference`.
    public static func terciles(_ values: [Double], reference: [Double]) -> [Int] {
        let (q1, q2) = (Metrics.quantile(reference, 1.0 / 3), Metrics.quantile(reference, 2.0 / 3))
        return values.map { $0 < q1 ? 0 : ($0 < q2 ? 1 : 2) }
    }

    /// The accuracy of `assignments` (expert per item) as a prediction of `groups`, under the best one-to-one
    /// map from experts to groups (all K! permutations; K = 3 gives 6).
    public static func bestPermutationAccuracy(assignments: [Int], groups: [Int], classes: Int) -> Double {
        precondition(assignments.count == groups.count && !groups.isEmpty,
                     "bestPermutationAccuracy: \(assignments.count) assignments for \(groups.count) groups")
        var best = 0
        for permutation in permutations(of: Array(0..<classes)) {
            let correct = zip(assignments, groups).filter { permutation[$0.0] == $0.1 }.count
            best = max(best, correct)
        }
        return Double(best) / Double(groups.count)
    }

    /// Per group (expert), the share of the values of its rows that are > 0: `values` holds `valuesPerRow`
    /// values per row back to back, `groups[r]` is row r's group. Applied to a generator's final-layer
    /// pre-activations (before the output ReLU) on the conditions routed to each expert, it is the share of
    /// output pixels a gradient can pass through: a dead expert has ~0. A group with no row gives NaN.
    public static func positiveShare(_ values: [Float], valuesPerRow: Int, groups: [Int], groupCount: Int) -> [Double] {
        precondition(valuesPerRow > 0 && values.count == groups.count * valuesPerRow,
                     "positiveShare: \(values.count) values for \(groups.count) rows of \(valuesPerRow)")
        var positive = [Int](repeating: 0, count: groupCount), total = [Int](repeating: 0, count: groupCount)
        for (row, group) in groups.enumerated() {
            total[group] += valuesPerRow
            for v in values[(row * valuesPerRow)..<((row + 1) * valuesPerRow)] where v > 0 { positive[group] += 1 }
        }
        return zip(positive, total).map { $1 == 0 ? .nan : Double($0) / Double($1) }
    }

    /// Every ordering of `items` (Heap's algorithm is overkill for K ≤ 4; recursion is clearer).
    static func permutations(of items: [Int]) -> [[Int]] {
        guard items.count > 1 else { return [items] }
        return items.indices.flatMap { i -> [[Int]] in
            var rest = items
            let head = rest.remove(at: i)
            return permutations(of: rest).map { [head] + $0 }
        }
    }
}
