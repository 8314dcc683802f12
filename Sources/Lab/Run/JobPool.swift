import Dispatch
import Foundation
import Lab

/// Runs independent jobs (seeds, grid points) side by side, each on one thread with single-threaded
/// BLAS: on a small machine two single-threaded trainings beat one two-threaded training, whose skinny
/// GEMMs gain little from a second thread. Results come back in job order whatever finished first, so a
/// run is deterministic.
public enum JobPool {
    /// Runs `jobs` on at most `workers` threads, each job with a thread budget of 1 (`Parallel.withThreads`:
    /// only the pool's threads get it, so anything else running in the process keeps its own budget). If jobs
    /// throw, no further job starts, and the error of the lowest-numbered failing job is rethrown: the same one
    /// a sequential loop would have hit first.
    public static func run<Result: Sendable>(_ jobs: [@Sendable () throws -> Result],
                                             workers: Int = 2) throws -> [Result] {
        guard !jobs.isEmpty else { return [] }
        guard workers >= 1 else { throw LabError.invalidArgument("JobPool.run: workers = \(workers), need at least 1") }

        let board = JobBoard<Result>(count: jobs.count)
        DispatchQueue.concurrentPerform(iterations: min(workers, jobs.count)) { _ in
            while let index = board.nextJob() {
                do {
                    board.record(index, .success(try Parallel.withThreads(1) { try jobs[index]() }))
                } catch {
                    board.record(index, .failure(error))
                }
            }
        }
        return try board.results()
    }
}

/// The shared state of one `JobPool.run`: which job is next, and each job's outcome.
private final class JobBoard<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private var failed = false
    private var outcomes: [Result<Value, Error>?]

    init(count: Int) { outcomes = Array(repeating: nil, count: count) }

    /// The next job to start, or nil when all have started or one has failed.
    func nextJob() -> Int? {
        lock.withLock {
            guard !failed, next < outcomes.count else { return nil }
            defer { next += 1 }
            return next
        }
    }

    func record(_ index: Int, _ outcome: Result<Value, Error>) {
        lock.withLock {
            outcomes[index] = outcome
            if case .failure = outcome { failed = true }
        }
    }

    /// Every result in job order, or the first (lowest-index) error.
    func results() throws -> [Value] {
        try lock.withLock {
            try outcomes.compactMap { $0 }.map { try $0.get() }
        }
    }
}
