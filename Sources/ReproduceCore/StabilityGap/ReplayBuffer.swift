import Lab

/// The exemplar memory of finetuning with replay: FACIL's random selection with a fixed total memory M.
///
/// After task t, with n classes seen and quota q = ⌊M/n⌋: each current class gets q of its training images
/// drawn at random, and each old class keeps a random q of its current exemplars, so |B| = q·n ≤ M.
public struct ReplayBuffer: Sendable, Equatable {
    public let memory: Int
    /// exemplars[c]: training-set indices of class c held in memory.
    public private(set) var exemplars: [Int: [Int]] = [:]

    public init(memory: Int) {
        precondition(memory >= 0, "ReplayBuffer: memory must be non-negative, got \(memory)")
        self.memory = memory
    }

    /// Images per class after a task that brings the number of seen classes to `seenClassCount`.
    public func quota(seenClassCount: Int) -> Int { seenClassCount == 0 ? 0 : memory / seenClassCount }

    public var isEmpty: Bool { exemplars.values.allSatisfy(\.isEmpty) }

    /// Every exemplar, class by class in ascending class order.
    public var allIndices: [Int] { exemplars.keys.sorted().flatMap { exemplars[$0]! } }

    /// The buffer after a task: `currentClasses` join, drawing from `trainIndicesByClass[c]`; old classes shrink
    /// to the new quota by a random subset of what they hold.
    public mutating func update(currentClasses: [Int], trainIndicesByClass: [[Int]], rng: inout RNG) {
        let q = quota(seenClassCount: exemplars.count + currentClasses.count)
        for c in exemplars.keys.sorted() {
            let held = exemplars[c]!
            exemplars[c] = rng.choice(held.count, count: min(q, held.count)).map { held[$0] }
        }
        for c in currentClasses {
            let pool = trainIndicesByClass[c]
            precondition(pool.count >= q, "ReplayBuffer: class \(c) has \(pool.count) training images, quota \(q)")
            exemplars[c] = rng.choice(pool.count, count: q).map { pool[$0] }
        }
    }

    /// Violations of the quota rule after a task: one for every seen class not holding exactly ⌊M/n⌋ images,
    /// one for every held class that is not among `seenClasses`, one for every exemplar whose training label is
    /// not its class (`labels[i]` = class of training image i).
    public func quotaViolations(seenClasses: [Int], labels: [Int]) -> Int {
        let q = quota(seenClassCount: seenClasses.count)
        let seen = Set(seenClasses)
        var violations = seenClasses.filter { (exemplars[$0]?.count ?? 0) != q }.count
        violations += exemplars.keys.filter { !seen.contains($0) && !(exemplars[$0]!.isEmpty) }.count
        for (c, indices) in exemplars { violations += indices.filter { labels[$0] != c }.count }
        return violations
    }
}
