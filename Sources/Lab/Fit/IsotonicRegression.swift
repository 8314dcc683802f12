/// Isotonic (non-decreasing) regression of y on x by pool-adjacent-violators (Barlow et al. 1972; as a
/// calibrator: Zadrozny & Elkan 2002): the step function f minimising Σ (y_i − f(x_i))² with f
/// non-decreasing in x. Equal x values are pooled first (one level per distinct x), then adjacent blocks
/// whose means decrease are merged into their weighted mean until the means increase.
///
/// Prediction: a value inside a block's x range gets that block's level; one in a gap between blocks gets
/// the nearer block's level; beyond the ends, the end blocks'.
///
///     let fit = IsotonicRegression(x: [0.1, 0.2, 0.3, 0.4], y: [0, 1, 0, 1])
///     fit.levels            // [0, 0.5, 1]: blocks {0.1}, {0.2, 0.3}, {0.4}
///     fit.predict(0.25)     // 0.5
public struct IsotonicRegression: Sendable, Equatable {
    /// One constant piece: the x range of its samples and its level (their mean y).
    public struct Block: Sendable, Equatable {
        public var lowerX: Double
        public var upperX: Double
        public var level: Double
        public var weight: Double
    }

    /// Blocks in increasing x, with strictly increasing levels.
    public let blocks: [Block]

    /// Fits on the pairs (x_i, y_i); x must be free of NaN and non-empty.
    public init(x: [Double], y: [Double]) {
        precondition(x.count == y.count && !x.isEmpty, "IsotonicRegression: \(x.count) x for \(y.count) y (need equal, non-zero counts)")
        precondition(!x.contains { $0.isNaN } && !y.contains { $0.isNaN }, "IsotonicRegression: NaN in x or y")
        let order = x.indices.sorted { x[$0] < x[$1] }
        var blocks: [Block] = []
        for i in order {
            if let last = blocks.last, last.upperX == x[i] {
                // Same x as the previous sample: pool before any ordering is imposed.
                blocks[blocks.count - 1] = Self.pooled(last, Block(lowerX: x[i], upperX: x[i], level: y[i], weight: 1))
            } else {
                blocks.append(Block(lowerX: x[i], upperX: x[i], level: y[i], weight: 1))
            }
            while blocks.count > 1 && blocks[blocks.count - 2].level >= blocks[blocks.count - 1].level {
                let last = blocks.removeLast()
                blocks[blocks.count - 1] = Self.pooled(blocks[blocks.count - 1], last)
            }
        }
        self.blocks = blocks
    }

    /// The levels of the blocks, in increasing x.
    public var levels: [Double] { blocks.map(\.level) }

    /// f(x0) as described above.
    public func predict(_ x0: Double) -> Double {
        // The last block starting at or below x0.
        var low = 0, high = blocks.count
        while low < high {
            let middle = (low + high) / 2
            if blocks[middle].lowerX > x0 { high = middle } else { low = middle + 1 }
        }
        if low == 0 { return blocks[0].level }
        let block = blocks[low - 1]
        if x0 <= block.upperX || low == blocks.count { return block.level }
        let next = blocks[low]
        return x0 - block.upperX <= next.lowerX - x0 ? block.level : next.level
    }

    private static func pooled(_ a: Block, _ b: Block) -> Block {
        let weight = a.weight + b.weight
        return Block(lowerX: min(a.lowerX, b.lowerX), upperX: max(a.upperX, b.upperX),
                     level: (a.level * a.weight + b.level * b.weight) / weight, weight: weight)
    }
}
