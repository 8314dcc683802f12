import Lab

/// An exemplar memory of training-set indices, class by class, filled at random after each task (FACIL's
/// random selection), in one of two sizes:
/// - `.fixedTotal(M)`: the memory holds at most M images; with n classes seen, each holds q = ⌊M/n⌋
///   (stability-gap), so old classes shrink as new ones arrive and |B| = q·n ≤ M;
/// - `.perClass(k)`: each seen class holds k images and the memory grows with the classes
///   (early-exit-continual's 20 per class).
///
/// After a task, old classes keep a random q of what they hold (in `.perClass` mode all of them, reordered),
/// then each current class draws q of its training images, all from the one seeded stream passed in.
public struct ReplayBuffer: Sendable, Equatable {
    public enum Capacity: Sendable, Equatable {
        case fixedTotal(Int)
        case perClass(Int)
    }

    public let capacity: Capacity
    /// exemplars[c]: training-set indices of class c held in memory.
    public private(set) var exemplars: [Int: [Int]] = [:]

    public init(capacity: Capacity) {
        switch capacity {
        case .fixedTotal(let size), .perClass(let size):
            precondition(size >= 0, "ReplayBuffer: the capacity must be non-negative, got \(capacity)")
        }
        self.capacity = capacity
    }

    /// Images per class once `seenClassCount` classes are seen: ⌊M/n⌋ (fixed total) or k (per class).
    public func quota(seenClassCount: Int) -> Int {
        switch capacity {
        case .fixedTotal(let memory): seenClassCount == 0 ? 0 : memory / seenClassCount
        case .perClass(let perClass): perClass
        }
    }

    public var isEmpty: Bool { exemplars.values.allSatisfy(\.isEmpty) }

    /// Every exemplar, class by class in ascending class order.
    public var allIndices: [Int] { exemplars.keys.sorted().flatMap { exemplars[$0]! } }

    /// The buffer after a task: `currentClasses` join, drawing from `trainIndicesByClass[c]`; old classes keep a
    /// random subset of the new quota from what they hold.
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

    /// Violations of the quota rule after a task: one for every seen class not holding exactly its quota, one
    /// for every held class that is not among `seenClasses`, one for every exemplar whose training label is
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
