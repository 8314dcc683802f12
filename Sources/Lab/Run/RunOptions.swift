import ArgumentParser
import Lab
import LabReport

extension Scale: ExpressibleByArgument {}

/// The command-line options every paper executable shares (include them with `@OptionGroup`):
///
///     exact-orthogonal-init --scale smoke --seed 3 --out /tmp/eoi --threads 1 --quiet
public struct RunOptions: ParsableArguments, Sendable {
    @Option(help: ArgumentHelp(
        "smoke: checks that everything runs (well under a minute); full: the paper's figures (minutes).",
        valueName: "smoke|full"))
    public var scale: Scale = .full

    @Option(help: "Base seed; every experiment derives its random generator from it.")
    public var seed: Int = 0

    @Option(help: "Number of seeds (seed, seed+1, ...) where the paper averages over seeds (default: the paper's own).")
    public var seeds: Int?

    @Option(help: ArgumentHelp("Output folder (default: figures/<command>).", valueName: "dir"))
    public var out: String?

    @Option(help: "Threads for Lab's loops and OpenBLAS (default: all cores).")
    public var threads: Int?

    @Flag(help: "No progress or section lines on stderr.")
    public var quiet = false

    public init() {}

    public func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if let seeds, seeds < 1 { throw ValidationError("--seeds must be at least 1, got \(seeds)") }
        if let out, out.isEmpty { throw ValidationError("--out must name a folder") }
    }

    /// The seeds to average over: `seed, seed+1, ..., seed+n-1` with n = `--seeds`, else `defaultCount`.
    public func seedList(defaultCount: Int) -> [Int] {
        Array(seed..<(seed + (seeds ?? defaultCount)))
    }

    /// `--out`, else `figures/<folder>`.
    public func outputDirectory(folder: String) -> String { out ?? "figures/\(folder)" }

    /// Applies `--threads` (and Lab's allocator settings) to this process.
    public func configureThreads() { Parallel.configure(threads: threads) }

    /// A report for `paper` with this run's scale, seeds, output folder and quietness.
    public func makeReport(for paper: Paper, seeds: [Int]) -> Report {
        Report(paper: paper.id, title: paper.title, outputDirectory: outputDirectory(folder: paper.command),
               scale: scale, seed: seed, seeds: seeds, quiet: quiet)
    }

    /// A progress display on stderr that honours `--quiet`.
    public func progress(_ label: String, total: Int) -> Progress {
        Progress(label, total: total, quiet: quiet)
    }
}
