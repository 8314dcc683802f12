import Lab
import LabContinual

/// The stability gap of one old task u during one later task t (accuracies in percent).
public struct TaskPairGap: Sendable, Equatable {
    public var task: Int
    public var oldTask: Int
    /// acc_u(end(t−1)): the accuracy on u just before task t starts.
    public var referenceAccuracy: Double
    /// m_u^t = min_i acc_u(t, i).
    public var minimum: Double
    /// i*: the first step at which the minimum is reached.
    public var minimumStep: Int
    /// acc_u(end(t)).
    public var endAccuracy: Double
    /// N_t.
    public var taskSteps: Int

    /// SG_u^t = acc_u(end(t−1)) − m_u^t.
    public var gap: Double { referenceAccuracy - minimum }
    /// SG_u^t / acc_u(end(t−1)); NaN when the reference accuracy is 0.
    public var normalizedGap: Double { referenceAccuracy > 0 ? gap / referenceAccuracy : .nan }
    /// Recovery_u^t = acc_u(end(t)) − m_u^t.
    public var recovery: Double { endAccuracy - minimum }
    /// The minimum lies in the first 20% of the task: i* ≤ 0.2·N_t.
    public var isEarly: Bool { Double(minimumStep) <= 0.2 * Double(taskSteps) }
}

/// One head's summary over a run (the columns of the paper's Table 1; accuracies and gaps in percent).
public struct HeadSummary: Sendable, Equatable {
    /// mean_u acc_u(end(T−1)).
    public var finalAccuracy: Double
    /// mean_t of mean_{u≤t} acc_u(end(t)).
    public var averageIncrementalAccuracy: Double
    /// mean over t ≥ 1 of min-ACC^t = mean_{u<t} m_u^t.
    public var minAccuracy: Double
    /// mean over t ≥ 1 of WC-ACC^t = (1/k)·acc_t(end(t)) + (1 − 1/k)·min-ACC^t, k = t + 1.
    public var worstCaseAccuracy: Double
    /// Mean SG_u^t over t ≥ 1, u < t.
    public var gap: Double
    /// Mean SG_u^t / acc_u(end(t−1)) over the pairs where acc_u(end(t−1)) > 0 (undefined otherwise: a head
    /// that had already forgotten u entirely).
    public var normalizedGap: Double
    public var recovery: Double
    /// Share of (t, u) pairs whose minimum is early (i* ≤ 0.2·N_t).
    public var earlyMinimumShare: Double
    /// Mean R(t, i) over t ≥ 1 and evaluation points with i ≤ 16.
    public var recencyEarly: Double
    /// Mean R(t, end(t)) over t ≥ 1.
    public var recencyEnd: Double
}

extension HeadTrace {
    /// Steps up to which an evaluation counts as "right after the switch" for R_early.
    public static let earlyRecencySteps = 16

    /// The gap of every pair (t ≥ 1, u < t), ordered by t then u.
    public func taskPairGaps() -> [TaskPairGap] {
        guard taskCount > 1 else { return [] }
        var pairs: [TaskPairGap] = []
        for t in 1..<taskCount {
            let during = points(task: t)
            precondition(!during.isEmpty, "HeadTrace: task \(t) has no evaluation point")
            let before = end(task: t - 1), after = end(task: t)
            for u in 0..<t {
                var lowest = during[0]
                for point in during.dropFirst() where point.accuracy[u] < lowest.accuracy[u] { lowest = point }
                pairs.append(TaskPairGap(task: t, oldTask: u, referenceAccuracy: before.accuracy[u],
                                         minimum: lowest.accuracy[u], minimumStep: lowest.step,
                                         endAccuracy: after.accuracy[u], taskSteps: taskSteps[t]))
            }
        }
        return pairs
    }

    /// min-ACC^t for t = 1..<T (index t − 1).
    public func minAccuracyPerTask() -> [Double] {
        let pairs = taskPairGaps()
        return (1..<max(taskCount, 1)).map { t in Metrics.mean(pairs.filter { $0.task == t }.map(\.minimum)) }
    }

    /// WC-ACC^t for t = 1..<T (index t − 1).
    public func worstCaseAccuracyPerTask() -> [Double] {
        zip(1..<max(taskCount, 1), minAccuracyPerTask()).map { t, minAccuracy in
            let k = Double(t + 1)
            return end(task: t).accuracy[t] / k + (1 - 1 / k) * minAccuracy
        }
    }

    /// The paper's per-head summary of this run.
    public func summary() -> HeadSummary {
        let pairs = taskPairGaps()
        let endAccuracies = AccuracyMatrix(rows: (0..<taskCount).map { end(task: $0).accuracy })
        let early = points.filter { $0.task >= 1 && $0.step <= Self.earlyRecencySteps }.map(\.recency)
        let ends = (1..<max(taskCount, 1)).map { end(task: $0).recency }
        return HeadSummary(
            finalAccuracy: endAccuracies.finalAccuracy,
            averageIncrementalAccuracy: endAccuracies.averageIncrementalAccuracy,
            minAccuracy: Metrics.mean(minAccuracyPerTask()),
            worstCaseAccuracy: Metrics.mean(worstCaseAccuracyPerTask()),
            gap: Metrics.mean(pairs.map(\.gap)),
            normalizedGap: Metrics.mean(pairs.map(\.normalizedGap).filter { !$0.isNaN }),
            recovery: Metrics.mean(pairs.map(\.recovery)),
            earlyMinimumShare: Metrics.mean(pairs.map { $0.isEarly ? 1 : 0 }),
            recencyEarly: Metrics.mean(early),
            recencyEnd: Metrics.mean(ends))
    }
}

