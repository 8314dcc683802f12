import CBLAS
import Foundation

/// How many threads Lab's kernels use. Set once per process (`--threads`); a thread can run a piece of work
/// with its own budget (`withThreads`, e.g. 1 inside the job pools that run several single-threaded jobs side
/// by side) without changing what any other thread uses.
///
/// Thread policy: Lab's threads (`WorkerPool`, behind `forChunks`) are the only compute threads. OpenBLAS is set to one thread once, when this
/// type is first used (every GEMM path reads `threads` first), and never changed afterwards; `sgemm` splits
/// large products over Lab's threads itself, each block one single-threaded OpenBLAS call. OpenBLAS's own
/// pool would keep its workers spinning (sched_yield) for a while after every call, competing with Lab's
/// loops for the cores, and changing its thread count while other threads call it races inside OpenBLAS
/// (0.3.21 hangs), so it is fixed at 1 for the life of the process.
public enum Parallel {
    nonisolated(unsafe) private static var _threads: Int = {
        let n = ProcessInfo.processInfo.activeProcessorCount
        Parallel.tuneAllocator()
        openblas_set_num_threads(1)
        return max(1, n)
    }()

    /// The calling thread's budget (`withThreads`) when it has one; stored as a pointer-sized integer, nil when unset.
    private static let localBudget: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "Parallel: pthread_key_create failed")
        return key
    }()

    /// The thread budget of the calling thread: its own (`withThreads`) if it has one, else the process's.
    public static var threads: Int {
        if let local = pthread_getspecific(localBudget) { return Int(bitPattern: local) }
        return _threads
    }

    /// Runs `body` with a thread budget of `n` on the calling thread only, then restores that thread's previous
    /// budget. Other threads keep theirs, so work that runs side by side in one process (jobs of a `JobPool`,
    /// tests run in parallel) never changes another's chunk splits, and so never its numbers.
    public static func withThreads<Result>(_ n: Int, _ body: () throws -> Result) rethrows -> Result {
        precondition(n >= 1, "Parallel.withThreads: \(n) < 1")
        _ = _threads  // the one-time OpenBLAS set-up happens first
        if n > 1 { pool.ensureWorkers(n - 1) }
        let previous = pthread_getspecific(localBudget)
        pthread_setspecific(localBudget, UnsafeRawPointer(bitPattern: n))
        defer { pthread_setspecific(localBudget, previous) }
        return try body()
    }

    /// Makes sure the one-time OpenBLAS set-up (1 thread) has happened. Every direct BLAS/LAPACK call in Lab
    /// calls this first: OpenBLAS 0.3.21 can hang when its thread count changes while another thread is inside
    /// it, so the change must happen before any call can be in flight. The set-up runs under Swift's one-time
    /// initialisation lock, so concurrent first callers wait for it to finish.
    @inline(__always)
    public static func prepareBLAS() { _ = _threads }

    /// Sets the process's thread budget of Lab's loops (and so of its GEMMs, which `sgemm` splits over these
    /// threads). Threads inside `withThreads` keep their own budget.
    public static func setThreads(_ n: Int) {
        precondition(n >= 1, "Parallel.setThreads: \(n) < 1")
        _ = _threads  // the one-time OpenBLAS set-up happens first
        _threads = n
        if n > 1 { pool.ensureWorkers(n - 1) }
    }

    /// Runs `body(chunkStart, chunkEnd)` over 0..<n split into at most `threads` contiguous chunks when the
    /// work is large enough (`n * costPerItem` above ~64k), else inline. The split depends only on n and the
    /// thread budget, so results are deterministic for a given thread count.
    @inline(__always)
    public static func forChunks(_ n: Int, costPerItem: Int = 1, _ body: (Int, Int) -> Void) {
        let t = threads
        if t == 1 || n * costPerItem < 65_536 || n < 2 {
            body(0, n)
            return
        }
        let chunks = min(t, n)
        pool.run(chunks: chunks) { c in
            let lo = n * c / chunks, hi = n * (c + 1) / chunks
            if lo < hi { body(lo, hi) }
        }
    }

    /// The compute threads behind `forChunks` (threads − 1 workers; the caller is the other thread).
    static let pool: WorkerPool = {
        let p = WorkerPool()
        p.ensureWorkers(max(1, Parallel.threads - 1))
        return p
    }()

    /// Keeps freed tensor buffers in the heap instead of returning them to the kernel with munmap: every op
    /// allocates its result, and mmap + page faults on each large allocation would cost more than the op.
    static func tuneAllocator() {
        #if os(Linux)
        _ = mallopt(M_MMAP_THRESHOLD, 1 << 30)
        _ = mallopt(M_TRIM_THRESHOLD, 1 << 30)
        #endif
    }

    /// Call once at program start (paper executables do it through Lab.Run) so the thread budget and the
    /// allocator settings are in effect before the first large allocation. It may re-execute the program once
    /// to select OpenBLAS's kernels (see `selectOpenBLASKernels`).
    public static func configure(threads: Int? = nil) {
        selectOpenBLASKernels()
        _ = _threads
        if let t = threads { setThreads(t) }
    }

    /// The OpenBLAS kernel family in use (e.g. "SkylakeX", "Haswell", "Prescott").
    public static var openBLASCore: String { String(cString: openblas_get_corename()) }

    /// Which kernels Lab and OpenBLAS run, from the environment variable `LAB_KERNELS`:
    /// - `portable` (the default): the same kernels on every x86-64 CPU with AVX2 and FMA, so a seed and a thread
    ///   count give bit-identical numbers on any such machine: OpenBLAS's Haswell (AVX2) kernels, whatever
    ///   OpenBLAS would pick for the CPU (SkylakeX and Cooperlake, its AVX-512 families, sum in another order),
    ///   and the AVX2 path of LabLLM's quantised kernels (CLLMKernels reads the same variable).
    /// - `native` (`LAB_KERNELS=native`): the fastest kernels of this CPU; results may differ in the last bits
    ///   between CPU families, and so may a claim that sits on its threshold.
    public enum KernelChoice: String, Sendable {
        case portable, native
    }

    /// The kernel choice of this process (`LAB_KERNELS`, default `portable`).
    public static var kernels: KernelChoice {
        getenv("LAB_KERNELS").map { String(cString: $0) } == KernelChoice.native.rawValue ? .native : .portable
    }

    /// OpenBLAS reads OPENBLAS_CORETYPE only when it loads, so when the kernel family in use is not the one
    /// `kernels` asks for, the program re-executes itself once with OPENBLAS_CORETYPE set:
    /// - `portable`: Haswell on every CPU with AVX2 and FMA (a CPU without them keeps what OpenBLAS picks, and
    ///   its results are not comparable bit for bit);
    /// - `native`: only when Debian's OpenBLAS 0.3.21 does not recognise the CPU (e.g. Sapphire Rapids) and
    ///   falls back to its generic Prescott kernels, several times slower: SkylakeX with AVX-512, else Haswell.
    /// An OPENBLAS_CORETYPE set by the user is always respected.
    static func selectOpenBLASKernels() {
        #if os(Linux)
        guard getenv("OPENBLAS_CORETYPE") == nil,
              let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = cpu.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        let hasAVX2 = flags.isSuperset(of: ["avx2", "fma"])
        let hasAVX512 = flags.isSuperset(of: ["avx512f", "avx512dq", "avx512bw", "avx512vl"])
        let core: String
        switch kernels {
        case .portable:
            guard hasAVX2 else { return }
            core = "Haswell"
        case .native:
            guard ["Prescott", "Core2", "Nehalem", "Penryn", "Dunnington", "Atom"].contains(openBLASCore) else { return }
            if hasAVX512 { core = "SkylakeX" } else if hasAVX2 { core = "Haswell" } else { return }
        }
        guard openBLASCore != core else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv returns only on failure: carry on with the kernels OpenBLAS picked.
        #endif
    }
}

/// Wraps a value that is safe to share across the threads of one `Parallel.forChunks` call (each chunk
/// touches a disjoint slice of the output).
public struct UncheckedSendable<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}
