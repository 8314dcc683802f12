import ArgumentParser
import Foundation
import Lab
import LabReport

/// What a paper executable reproduces; its `--help` is built from this.
public struct Paper: Sendable {
    /// The arXiv number, e.g. "2406.01755".
    public let arXiv: String
    public let title: String
    /// The executable = make target = folder under figures/, e.g. "exact-orthogonal-init".
    public let command: String
    /// The figures, tables and claims reproduced, and what is scaled down and why.
    public let reproduces: String

    public init(arXiv: String, title: String, command: String, reproduces: String) {
        self.arXiv = arXiv
        self.title = title
        self.command = command
        self.reproduces = reproduces
    }

    /// "arXiv:2406.01755"
    public var id: String { "arXiv:\(arXiv)" }

    /// The command's name, abstract and discussion (`--help`), with example commands.
    public var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: command,
            abstract: "Reproduces \"\(title)\" (\(id)).",
            discussion: """
                \(reproduces)

                Writes figures/\(command)/ at full scale, .smoke/\(command)/ at smoke scale (or --out): fig-*.png, \
                table-*.md and .csv, claims.json, REPORT.md and run.json, into a working folder beside it that \
                replaces the folder only when the run completes. Exits 0 when the run completed, whatever its \
                claims say; 64 for a bad argument; 1 when the run broke.

                Examples:
                  make \(command)                                  (full scale into figures/\(command))
                  .build/release/\(command) --scale smoke --out /tmp/\(command)
                """)
    }
}

/// A paper executable. Its `main.swift` declares the command and ends with `runMain()`:
///
///     struct ExactOrthogonalInit: PaperCommand {
///         static let paper = Paper(
///             arXiv: "2406.01755", title: "Exact orthogonal initialization for deep networks",
///             command: "exact-orthogonal-init",
///             reproduces: "Figure 2 (Jacobian singular values vs depth) and Table 1 (accuracy at depth 1000).")
///         static func defaultSeedCount(scale: Scale) -> Int { Plan(scale: scale).seeds }
///         @OptionGroup var options: RunOptions
///
///         func reproduce(in report: Report) throws {
///             let plan = Plan(scale: options.scale)
///             try report.section("Jacobian spectra") { ... }
///             try report.claim(Claim(...))
///             try report.record("flops", plan.flops)       // a further fact for run.json
///         }
///     }
///     ExactOrthogonalInit.runMain()
///
/// `run()` applies `--threads`, opens the report (with `report.seeds` = `--seed` and the following ones,
/// `--seeds` or `defaultSeedCount(scale:)` of them), checks the output folder and creates the working folder
/// beside it (a bad `--out` is refused before any compute), calls `reproduce(in:)` and finishes the report
/// (REPORT.md, claims.json, run.json; the working folder replaces the output folder; the claim table on stdout). A paper customises the
/// run through the protocol's requirements (`defaultSeedCount(scale:)`, `reproduce(in:)`) and the report
/// (`report.record` for run.json), not by declaring its own `run()`.
///
/// **Scale plan.** Every size that differs between `--scale smoke` and `--scale full` lives in one
/// `struct Plan` in the paper's `Plan.swift`, built by `Plan(scale:)` (plus whatever else decides a size,
/// e.g. the seeds or an override flag) with one exhaustive `switch scale`, so that the compiler makes every
/// scale state every size and the story in `main.swift` reads `plan.epochs`, never `full ? 8 : 2`. Sizes
/// that do not depend on the scale are `let` constants of the same struct, so the plan is the one place a
/// reader looks up what a run does.
public protocol PaperCommand: ParsableCommand {
    static var paper: Paper { get }
    /// How many seeds the paper averages over when `--seeds` is not given (default 1).
    static var defaultSeedCount: Int { get }
    /// How many seeds the paper averages over at `scale` when `--seeds` is not given (default:
    /// `defaultSeedCount` at every scale).
    static func defaultSeedCount(scale: Scale) -> Int
    var options: RunOptions { get }
    /// The story: one section per figure or table, then the claims.
    func reproduce(in report: Report) throws
}

extension PaperCommand {
    public static var configuration: CommandConfiguration { paper.configuration }

    public static var defaultSeedCount: Int { 1 }

    public static func defaultSeedCount(scale: Scale) -> Int { defaultSeedCount }

    public func run() throws {
        options.configureThreads()
        let seeds = options.seedList(defaultCount: Self.defaultSeedCount(scale: options.scale))
        let report = options.makeReport(for: Self.paper, seeds: seeds)
        try report.prepareOutputFolder()
        try reproduce(in: report)
        try report.finish()
    }

    /// Parses the command line and runs. Exit status: 0 for `--help` and for a completed run (whatever the
    /// claims say); 64 with the usage for a bad flag; 1 with a one-line message when the run broke.
    public static func runMain(_ arguments: [String]? = nil) -> Never {
        var command: Self
        do {
            command = try parseOnce(arguments)
        } catch {
            exit(withError: error)
        }
        LabRun.runMain(named: Self.paper.command) { try runThroughWitness(&command) }
    }
}

extension PaperCommand {
    /// `parse(arguments)` (nil: the process's arguments), after refusing a shared flag given twice
    /// (`RunOptions.rejectRepeatedFlags`).
    public static func parseOnce(_ arguments: [String]? = nil) throws -> Self {
        try RunOptions.rejectRepeatedFlags(arguments ?? Array(CommandLine.arguments.dropFirst()))
        return try parse(arguments)
    }
}

/// Calls `run()` as ParsableCommand's requirement, through the conformance's witness: a paper's own `run()`,
/// if it still declares one, is the one called. (Inside `extension PaperCommand`, `command.run()` would bind
/// statically to the extension's `run()` above and skip it.)
func runThroughWitness<Command: ParsableCommand>(_ command: inout Command) throws {
    try command.run()
}

/// How a run ended.
public enum RunOutcome: Equatable, Sendable {
    case completed
    /// The run broke; `message` is one line naming what and where.
    case broke(message: String)

    /// 0 when completed, 1 when broken.
    public var exitCode: Int32 {
        switch self {
        case .completed: return 0
        case .broke: return 1
        }
    }
}

/// Runs `body` and says how it ended; the error's description becomes a one-line message.
public func outcome(named name: String, of body: () throws -> Void) -> RunOutcome {
    do {
        try body()
        return .completed
    } catch {
        let text = String(describing: error)
        let oneLine = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return .broke(message: "\(name): error: \(oneLine)")
    }
}

/// Runs `body` as the whole program: exits 0 when it returns (a failing claim is a finding, not a failure),
/// or prints the error's one-line description on stderr and exits 1 when it throws (bad input, NaN, I/O).
public func runMain(named name: String = CommandLine.arguments.first.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "run",
                    _ body: () throws -> Void) -> Never {
    let result = outcome(named: name, of: body)
    if case .broke(let message) = result {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
    exit(result.exitCode)
}
