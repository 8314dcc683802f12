import ArgumentParser
import Lab
import LabReport

extension Scale: ExpressibleByArgument {}

/// The command-line options every paper executable shares (include them with `@OptionGroup`):
///
///     exact-orthogonal-init --scale smoke --seed 3 --out /tmp/eoi --threads 1 --quiet
///
/// Seeds are 0 ... 2^31 − 1 (a negative or larger seed is an error, not a wrap-around), `--seeds` 1 ... 1000,
/// `--threads` 1 ... 1024; a value may follow its flag with a space even when it starts with `-`
/// (`--seed -1` is read as the value -1 and refused as such). A flag given twice is an error
/// (`rejectRepeatedFlags`), not "the last one wins".
public struct RunOptions: ParsableArguments, Sendable {
    /// The largest seed, and the most seeds and threads a run accepts.
    public static let maximumSeed = Int(Int32.max), maximumSeedCount = 1000, maximumThreads = 1024

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "smoke: checks that everything runs (well under a minute); full: the paper's figures (minutes).",
        valueName: "smoke|full"))
    public var scale: Scale = .full

    @Option(parsing: .unconditional, help: "Base seed, 0 ... 2147483647; every experiment derives its random generator from it.")
    public var seed: Int = 0

    @Option(parsing: .unconditional,
            help: "Number of seeds (seed, seed+1, ...) where the paper averages over seeds (default: the paper's own).")
    public var seeds: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Output folder, replaced as a whole when the run completes (default: figures/<command> at full scale, "
            + ".smoke/<command> at smoke scale).", valueName: "dir"))
    public var out: String?

    @Option(parsing: .unconditional, help: "Threads for Lab's loops and OpenBLAS, 1 ... 1024 (default: all cores).")
    public var threads: Int?

    @Flag(help: "No progress or section lines on stderr.")
    public var quiet = false

    public init() {}

    public func validate() throws {
        guard (0...Self.maximumSeed).contains(seed) else {
            throw ValidationError("--seed must be between 0 and \(Self.maximumSeed), got \(seed)")
        }
        if let threads, !(1...Self.maximumThreads).contains(threads) {
            throw ValidationError("--threads must be between 1 and \(Self.maximumThreads), got \(threads)")
        }
        if let seeds, !(1...Self.maximumSeedCount).contains(seeds) {
            throw ValidationError("--seeds must be between 1 and \(Self.maximumSeedCount), got \(seeds)")
        }
        if let out, out.isEmpty { throw ValidationError("--out must name a folder") }
    }

    /// The flags of these options, each of which may be given once.
    static let flagNames = ["--scale", "--seed", "--seeds", "--out", "--threads", "--quiet"]

    /// Throws when one of the shared flags appears twice in `arguments` (`--seed 1 --seed=2`), see
    /// `rejectRepeatedFlags(_:flags:valueless:)`.
    public static func rejectRepeatedFlags(_ arguments: [String]) throws {
        try LabRun.rejectRepeatedFlags(arguments, flags: flagNames, valueless: ["--quiet"])
    }

    /// The seeds to average over: `seed, seed+1, ..., seed+n-1` with n = `--seeds`, else `defaultCount`.
    public func seedList(defaultCount: Int) -> [Int] {
        Array(seed..<(seed + (seeds ?? defaultCount)))
    }

    /// `--out`, else `figures/<folder>` at full scale and `.smoke/<folder>` at smoke scale: committed
    /// full-scale results change only through a full-scale run or an explicit `--out figures/<folder>`.
    public func outputDirectory(folder: String) -> String {
        out ?? (scale == .full ? "figures/\(folder)" : ".smoke/\(folder)")
    }

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

/// Throws when one of `flags` appears twice in `arguments` (`--seed 1 --seed=2`): a command would otherwise
/// silently use the last one. The value after a flag that takes one (every flag but the `valueless` ones) is
/// skipped, so `--out --seed` names a folder "--seed"; nothing after `--` is looked at.
public func rejectRepeatedFlags(_ arguments: [String], flags: [String], valueless: Set<String>) throws {
    var seen: Set<String> = []
    var index = arguments.startIndex
    while index < arguments.endIndex {
        let argument = arguments[index]
        if argument == "--" { return }
        let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
        if flags.contains(name) {
            guard seen.insert(name).inserted else {
                throw ValidationError("\(name) is given more than once; give it once")
            }
            if !valueless.contains(name), !argument.contains("=") { index += 1 }
        }
        index += 1
    }
}
