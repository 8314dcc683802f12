import Lab

/// A class-incremental sequence: task i trains on the classes of group i (global class ids).
///
///     let tasks = ClassIncrementalTasks(classes: Array(0..<10), classesPerTask: 2)   // {0,1}, {2,3}, ...
///     let task2 = tasks.dataset(2, from: train)                                     // labels 4 and 5
///     let local = try tasks.localDataset(2, from: train)                            // labels 0 and 1
public struct ClassIncrementalTasks: Sendable, Equatable {
    /// groups[i] = the global class ids of task i, in order.
    public let groups: [[Int]]

    /// Explicit groups (e.g. alternating domains: [[0, 1], [10, 11], [2, 3], ...]). Classes must not repeat.
    public init(groups: [[Int]]) throws {
        let all = groups.flatMap { $0 }
        guard !groups.isEmpty, groups.allSatisfy({ !$0.isEmpty }) else {
            throw LabError.invalidArgument("ClassIncrementalTasks: every task needs at least one class, got \(groups)")
        }
        guard Set(all).count == all.count else {
            throw LabError.invalidArgument("ClassIncrementalTasks: a class appears in two tasks: \(groups)")
        }
        self.groups = groups
    }

    /// Consecutive groups of `classesPerTask` classes, in the given order (natural label order by default).
    /// A class count that is not a multiple of `classesPerTask` is an `invalidArgument` error.
    public init(classes: [Int], classesPerTask: Int) throws {
        guard classesPerTask > 0, !classes.isEmpty, classes.count % classesPerTask == 0 else {
            throw LabError.invalidArgument(
                "ClassIncrementalTasks: \(classes.count) classes do not split into tasks of \(classesPerTask)")
        }
        try self.init(groups: stride(from: 0, to: classes.count, by: classesPerTask).map {
            Array(classes[$0..<$0 + classesPerTask])
        })
    }

    /// As `init(classes:classesPerTask:)` after a seeded shuffle of the class order (the same seed gives the
    /// same order on every machine).
    public init(classes: [Int], classesPerTask: Int, shuffledBy rng: inout RNG) throws {
        var order = classes
        rng.shuffle(&order)
        try self.init(classes: order, classesPerTask: classesPerTask)
    }

    public var taskCount: Int { groups.count }
    /// All classes in task order.
    public var classOrder: [Int] { groups.flatMap { $0 } }

    /// The task whose group holds `globalClass`, or nil.
    public func task(of globalClass: Int) -> Int? { groups.firstIndex { $0.contains(globalClass) } }

    /// The images of task `i`'s classes with their global labels.
    public func dataset(_ i: Int, from data: ImageDataset) -> ImageDataset { data.filter(classes: groups[i]) }

    /// The images of all tasks up to and including `i` (for joint training or evaluation on seen classes).
    public func datasetUpTo(_ i: Int, from data: ImageDataset) -> ImageDataset {
        data.filter(classes: groups[0...i].flatMap { $0 })
    }

    /// Task `i` with labels local to the task (position in its group: 0..<groups[i].count), for multi-head models.
    public func localDataset(_ i: Int, from data: ImageDataset) throws -> ImageDataset {
        var mapping: [Int: Int] = [:]
        for (local, global) in groups[i].enumerated() { mapping[global] = local }
        return try data.relabeled(mapping, classCount: groups[i].count)
    }
}
