import Foundation
import Synchronization

/// Lab's own compute threads: `Parallel.forChunks` hands its chunks to these persistent workers instead of
/// libdispatch. libdispatch's Linux thread pool wakes its workers late or not at all when it judges the machine
/// busy (a 512³ GEMM split in two then ran on one thread for 30 calls in a row), while every Lab op is a short
/// fork-join; these workers spin briefly after each job, so back-to-back ops start on both cores at once.
///
/// One job at a time: `run` claims the pool, publishes the job, works on it itself, and returns when every chunk
/// is done. A call made while the pool is busy (from inside a chunk, or from another thread, e.g. tests running
/// side by side) runs its chunks in order on the calling thread. Which thread runs a chunk never changes the
/// result: chunks write disjoint outputs, and callers combine per-chunk partials in chunk order.
///
/// Claiming is one atomic word, generation (high 32 bits) | chunk count (bits 16–31) | next chunk (bits 0–15):
/// a worker that wakes late for a finished job sees a newer generation (or no chunk left) and claims nothing.
final class WorkerPool: @unchecked Sendable {
    private let word = Atomic<Int>(0)
    private let job = Atomic<Int>(0)        // address of the current job's `(Int) -> Void`
    private let finished = Atomic<Int>(0)   // chunks of the current job completed
    private let busy = Atomic<Bool>(false)
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var generation = 0               // guarded by lock
    private var sleepers = 0                 // guarded by lock
    private var workers = 0                  // guarded by lock

    /// How long an idle worker keeps polling for the next job before it sleeps on the condition variable. On a
    /// virtual machine a sleeping thread's core can take longer to wake than a whole 512³ GEMM half (~0.5 ms),
    /// so the poll lasts a millisecond; it yields the core every 64 polls, so it only uses a core nothing else wants.
    private static let spinNanoseconds: UInt64 = 1_000_000
    /// How many polls the caller makes for the last chunks before it yields the core between polls.
    private static let spinIterations = 4_000

    init() {
        pthread_mutex_init(lock, nil)
        pthread_cond_init(wake, nil)
    }

    /// Starts workers until there are at least `count`.
    func ensureWorkers(_ count: Int) {
        pthread_mutex_lock(lock)
        while workers < count {
            workers += 1
            let thread = Thread { [self] in self.workerLoop() }
            thread.name = "Lab worker \(workers)"
            thread.start()
        }
        pthread_mutex_unlock(lock)
    }

    /// Runs `body(i)` for every i in 0..<chunks (at most 65,535) and returns when all are done.
    func run(chunks: Int, _ body: (Int) -> Void) {
        precondition(chunks >= 0 && chunks < 1 << 16, "WorkerPool.run: \(chunks) chunks")
        guard chunks > 1, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for i in 0..<chunks { body(i) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            var closure = escapable
            withUnsafePointer(to: &closure) { pointer in
                job.store(Int(bitPattern: pointer), ordering: .releasing)
                finished.store(0, ordering: .releasing)
                pthread_mutex_lock(lock)
                generation = (generation + 1) & 0xFFFF_FFFF
                let gen = generation
                word.store(gen << 32 | chunks << 16, ordering: .releasing)
                if sleepers > 0 { pthread_cond_broadcast(wake) }
                pthread_mutex_unlock(lock)
                work(generation: gen)
                var waits = 0
                while finished.load(ordering: .acquiring) < chunks {
                    waits += 1
                    if waits > Self.spinIterations { sched_yield() }
                }
            }
        }
        busy.store(false, ordering: .releasing)
    }

    /// Claims and runs chunks of job `generation` until none is left.
    private func work(generation gen: Int) {
        while true {
            let v = word.load(ordering: .acquiring)
            let (count, index) = ((v >> 16) & 0xFFFF, v & 0xFFFF)
            guard v >> 32 == gen, index < count else { return }
            guard word.compareExchange(expected: v, desired: v + 1, ordering: .acquiringAndReleasing).exchanged else { continue }
            let body = UnsafePointer<(Int) -> Void>(bitPattern: job.load(ordering: .acquiring))!
            body.pointee(index)
            finished.add(1, ordering: .releasing)
        }
    }

    private func workerLoop() {
        var seen = word.load(ordering: .acquiring) >> 32
        while true {
            var polls = 0
            let start = DispatchTime.now().uptimeNanoseconds
            while word.load(ordering: .relaxed) >> 32 == seen {
                polls += 1
                if polls % 64 != 0 { continue }
                sched_yield()
                if DispatchTime.now().uptimeNanoseconds - start < Self.spinNanoseconds { continue }
                pthread_mutex_lock(lock)
                sleepers += 1
                while word.load(ordering: .acquiring) >> 32 == seen { pthread_cond_wait(wake, lock) }
                sleepers -= 1
                pthread_mutex_unlock(lock)
            }
            seen = word.load(ordering: .acquiring) >> 32
            work(generation: seen)
        }
    }
}
