#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time (user + system) consumed so far, from the kernel's per-process and per-thread clocks. The
/// difference of two readings is the CPU cost of what ran between them:
///
///     let start = CPUTime.processSeconds()
///     train(...)
///     let cpu = CPUTime.processSeconds() - start    // > wall time when several threads worked
public enum CPUTime {
    /// Every thread of this process (`CLOCK_PROCESS_CPUTIME_ID`), in seconds.
    public static func processSeconds() -> Double { seconds(of: CLOCK_PROCESS_CPUTIME_ID) }

    /// The calling thread only (`CLOCK_THREAD_CPUTIME_ID`), in seconds: the cost of a job that runs on one
    /// thread with single-threaded BLAS (`JobPool`), unaffected by what other jobs do meanwhile.
    public static func threadSeconds() -> Double { seconds(of: CLOCK_THREAD_CPUTIME_ID) }

    private static func seconds(of clock: clockid_t) -> Double {
        var time = timespec()
        guard clock_gettime(clock, &time) == 0 else { return .nan }
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }
}
