import Foundation
import Lab

/// Something that can draw itself into a PNG file with provenance text chunks. Lab.Plot's `Figure`
/// conforms; the report only needs this much of it.
public protocol PNGWritable {
    /// Writes the image to `path`; `metadata` goes into PNG text chunks (keyword -> text).
    func savePNG(to path: String, metadata: [String: String]) throws
}

/// The notebook of one run: prose, timed sections, tables, figures, attachments, claims and further run
/// facts (`record`), in the order the paper executable adds them. Everything goes into a fresh working
/// folder beside the output folder (`workingDirectory`, `.<name>.tmp-<pid>-<random>`); `finish()` writes
/// `REPORT.md`, `claims.json` and `run.json` there and then renames the working folder into place, replacing
/// the previous output folder only then (`OutputFolder`). A run that breaks leaves the previous output as it
/// was and its partial output in the working folder, which the next run into the same folder removes.
///
///     let report = Report(paper: "arXiv:2406.01755", title: "Exact orthogonal initialization",
///                         outputDirectory: "figures/exact-orthogonal-init")
///     try report.section("Jacobian spectra") {
///         report.text("The singular values of the input-output Jacobian at initialisation ...")
///         try report.figure(figure, name: "fig-jacobian-sv", caption: "Singular values at depth 100")
///     }
///     try report.claim(Claim(id: "orthogonality", statement: "...", measured: error, .atMost(1e-5),
///                            kind: .exact, seeds: [0]))
///     try report.finish()
public final class Report {
    public let paper: String
    public let title: String
    /// Where the finished run is published.
    public let outputDirectory: String
    public let scale: Scale
    public let seed: Int
    /// Every seed the run uses (`[seed]` when it does not average over seeds).
    public let seeds: [Int]
    public let command: [String]
    /// When true, no section lines on stderr (the claim table still goes to stdout).
    public var quiet: Bool
    /// Where `finish()` prints the claim table (stdout by default).
    public var printClaimTable: (String) -> Void = { print($0, terminator: "") }
    public private(set) var claims: [Claim] = []

    private enum Entry {
        case heading(level: Int, text: String)
        case text(String)
        case table(file: String, caption: String, markdown: String)
        case figure(file: String, caption: String)
        case attachment(file: String, caption: String)
    }

    private var entries: [Entry] = []
    private var sectionTimes: [RunRecord.SectionTime] = []
    private var openSections: [(name: String, stopwatch: Stopwatch, cpuStart: Double)] = []
    /// Facts the paper adds to run.json (`record`), by key.
    private var recorded: [String: any Encodable & Sendable] = [:]
    private var writtenFiles: Set<String> = []
    private let started = Date()
    private let stopwatch = Stopwatch()
    private let cpuStart = CPUTime.processSeconds()
    /// Read when the run starts, before it writes anything into a (possibly tracked) output folder.
    private let git = Provenance.gitState()
    private var finished = false
    private let folder: OutputFolder
    private var prepared = false

    /// - Parameters:
    ///   - paper: "arXiv:<id>".
    ///   - outputDirectory: created on the first write.
    ///   - seeds: every seed the run uses where it averages over several (default `[seed]`).
    ///   - command: argv, recorded in run.json and claims.json.
    public init(paper: String, title: String, outputDirectory: String, scale: Scale = .full, seed: Int = 0,
                seeds: [Int]? = nil, command: [String] = CommandLine.arguments, quiet: Bool = false) {
        self.paper = paper
        self.title = title
        self.outputDirectory = outputDirectory
        self.folder = OutputFolder(destination: outputDirectory)
        self.scale = scale
        self.seed = seed
        self.seeds = seeds ?? [seed]
        self.command = command
        self.quiet = quiet
    }

    /// Where the run writes until `finish()` publishes it as `outputDirectory`.
    public var workingDirectory: String { folder.working }

    /// The path of `fileName` in the run's output, for files the paper writes itself (e.g. audio): inside
    /// the working folder while the run lasts, inside `outputDirectory` once `finish()` has published it.
    public func outputPath(_ fileName: String) -> String {
        URL(fileURLWithPath: finished ? outputDirectory : workingDirectory).appendingPathComponent(fileName).path
    }

    /// Checks the output folder and creates the working folder beside it (see `OutputFolder.prepare`): a
    /// dangerous (`/`, the current directory), unwritable or foreign `--out` is refused here, before any
    /// compute. Called by `PaperCommand.run()` first, and by the first write otherwise; later calls do nothing.
    public func prepareOutputFolder() throws {
        guard !prepared else { return }
        try folder.prepare()
        prepared = true
    }

    // MARK: prose and sections

    /// A paragraph (or any Markdown block) of prose.
    public func text(_ markdown: String) {
        entries.append(.text(markdown))
    }

    /// Opens a section: a heading in REPORT.md (one level deeper per open section) and a wall-time and
    /// CPU-time entry in run.json, closed by `endSection()`.
    public func beginSection(_ name: String) {
        entries.append(.heading(level: 2 + openSections.count, text: name))
        openSections.append((name, Stopwatch(), CPUTime.processSeconds()))
        log("[\(name)]")
    }

    /// Closes the innermost open section and records its wall time and the process's CPU time meanwhile.
    public func endSection() { closeSection(failed: false) }

    /// `failed`: the section stopped on an error, so the log says "stopped after" rather than "done in".
    func closeSection(failed: Bool) {
        guard let (name, watch, cpuStart) = openSections.popLast() else { return }
        let seconds = watch.seconds
        let cpuSeconds = CPUTime.processSeconds() - cpuStart
        sectionTimes.append(RunRecord.SectionTime(name: name, seconds: seconds, cpuSeconds: cpuSeconds))
        log("[\(name)] \(failed ? "stopped after" : "done in") \(formatDuration(seconds)) "
            + "(CPU \(formatDuration(cpuSeconds)))")
    }

    /// Runs `body` as a section (see `beginSection`); the section is closed and timed even if body throws.
    @discardableResult
    public func section<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        beginSection(name)
        do {
            let value = try body()
            endSection()
            return value
        } catch {
            closeSection(failed: true)
            throw error
        }
    }

    // MARK: tables, figures, attachments, claims

    /// Writes `table-<name>.md` and `table-<name>.csv` and embeds the table under its caption. A table with a
    /// NaN or infinite number is refused (`Table.validate`); a value that does not exist is a text cell ("-").
    public func table(_ table: Table, name: String, caption: String) throws {
        try checkFileName(name)
        try table.validate(name: name)
        try prepareOutputFolder()
        let stem = "table-\(name)"
        try claimFileNames(["\(stem).md", "\(stem).csv"])
        let markdown = table.markdown
        try AtomicFile.write("**\(caption)**\n\n" + markdown, to: outputPath("\(stem).md"))
        try AtomicFile.write(table.csv, to: outputPath("\(stem).csv"))
        entries.append(.table(file: stem, caption: caption, markdown: markdown))
    }

    /// Writes `<name>.png` (atomically: the figure draws into a temporary file that is then renamed) with
    /// provenance text chunks (Title, Software, Paper, Command, Commit, Seed, Scale) and embeds it under its caption.
    public func figure(_ figure: some PNGWritable, name: String, caption: String) throws {
        try checkFileName(name)
        let file = "\(name).png"
        try claimFileNames([file])
        try prepareOutputFolder()
        let destination = outputPath(file)
        let temporary = outputPath(".\(name).tmp-\(getpid()).png")
        do {
            try figure.savePNG(to: temporary, metadata: pngMetadata(caption: caption))
            guard rename(temporary, destination) == 0 else {
                throw LabError.io(path: destination, reason: "cannot rename \(temporary) over it: \(AtomicFile.systemError())")
            }
        } catch {
            unlink(temporary)
            throw error
        }
        entries.append(.figure(file: file, caption: caption))
    }

    /// Links a file the paper wrote itself (audio, a checkpoint): `path` is absolute or relative to the
    /// output folder, and must exist.
    public func attach(_ path: String, caption: String) throws {
        let fullPath = path.hasPrefix("/") ? path : outputPath(path)
        guard FileManager.default.fileExists(atPath: fullPath) else {
            throw LabError.missingFile(path: fullPath, fix: "write the file before attaching it to the report")
        }
        let working = URL(fileURLWithPath: workingDirectory).standardizedFileURL.path + "/"
        let standardized = URL(fileURLWithPath: fullPath).standardizedFileURL.path
        let link = standardized.hasPrefix(working) ? String(standardized.dropFirst(working.count)) : standardized
        entries.append(.attachment(file: link, caption: caption))
    }

    /// Adds a claim; ids must be unique within the run, and every number of it finite (`Claim.checkFinite`):
    /// a NaN or Inf stops the run with the name of the quantity instead of reaching claims.json.
    public func claim(_ claim: Claim) throws {
        try claim.checkFinite()
        guard !claims.contains(where: { $0.id == claim.id }) else {
            throw LabError.invalidArgument("claim id '\(claim.id)' was already added to this report; ids must be unique")
        }
        claims.append(claim)
    }

    /// Adds a fact to run.json under `key` at the top level, next to the command, commit and timings: e.g.
    /// `try report.record("flops", counts)` (the data files' SHA-256 are recorded by Lab's readers, under `dataFiles`).
    /// Recording a key again replaces the value; a key run.json already has (`seed`, `sections`, ...) is
    /// rejected.
    public func record(_ key: String, _ value: some Encodable & Sendable) throws {
        // run.json's own keys are RunRecord's property names (its Codable conformance is synthesized).
        let ownKeys = Set(Mirror(reflecting: runRecord()).children.compactMap(\.label))
        guard !key.isEmpty, !ownKeys.contains(key) else {
            throw LabError.invalidArgument(
                "run.json key '\(key)' is \(key.isEmpty ? "empty" : "one run.json already has"); record the value under another name")
        }
        recorded[key] = value
    }

    // MARK: finish

    /// Closes open sections, writes `claims.json`, `run.json` and `REPORT.md` into the working folder,
    /// publishes it as `outputDirectory` and prints the claim table. Call once, at the end of the run.
    public func finish() throws {
        guard !finished else { throw LabError.invalidArgument("Report.finish() was called twice") }
        while !openSections.isEmpty { endSection() }
        try prepareOutputFolder()
        let record = runRecord()
        try claimsFile.write(to: outputPath("claims.json"))
        let runJSON = try LabJSON.encoder.encode(RecordWithFacts(record: record, facts: recorded))
        try AtomicFile.write(runJSON + Data("\n".utf8), to: outputPath("run.json"))
        try AtomicFile.write(markdown(record), to: outputPath("REPORT.md"))
        try folder.publish()
        finished = true
        printClaimTable(claimTableText())
    }

    /// What claims.json holds.
    public var claimsFile: ClaimsFile {
        ClaimsFile(paper: paper, title: title, scale: scale, seed: seed, seeds: seeds,
                   command: Provenance.shellLine(command), claims: claims)
    }

    private func runRecord() -> RunRecord {
        RunRecord(paper: paper, title: title, command: command, commandLine: Provenance.shellLine(command),
                  scale: scale, seed: seed, seeds: seeds, outputDirectory: outputDirectory, git: git,
                  swift: Provenance.swiftVersion, openblas: Provenance.openblasConfig,
                  kernels: Parallel.kernels.rawValue, cpu: Provenance.cpuModel, threads: Parallel.threads,
                  cores: ProcessInfo.processInfo.activeProcessorCount, sections: sectionTimes,
                  wallSeconds: stopwatch.seconds, cpuSeconds: CPUTime.processSeconds() - cpuStart,
                  peakMemoryBytes: Provenance.peakMemoryBytes,
                  hostname: Provenance.hostname,
                  operatingSystem: ProcessInfo.processInfo.operatingSystemVersionString,
                  started: Provenance.iso8601(started), finished: Provenance.iso8601(Date()),
                  dataFiles: DataProvenance.checksums)
    }

    /// REPORT.md: title, run facts, the entries in order, the claim table, the run's timings and versions.
    private func markdown(_ record: RunRecord) -> String {
        var out = "# \(title)\n\n"
        let commit = git.commit == "unknown" ? "unknown commit" : "commit `\(git.commit.prefix(12))`"
        var facts = ["\(paper)", "scale **\(scale.rawValue)**", "seed \(seed)"]
        if seeds.count > 1 { facts.append("\(seeds.count) seeds (\(seeds.map(String.init).joined(separator: ", ")))") }
        facts.append(commit + (git.dirty ? " with uncommitted changes" : ""))
        facts.append(record.finished)
        facts.append("\(formatDuration(record.wallSeconds)) on \(record.hostname), \(record.threads) thread(s)")
        out += facts.joined(separator: " · ") + "\n\n"
        out += "Command: `\(record.commandLine)`\n\n"

        for entry in entries {
            switch entry {
            case .heading(let level, let text):
                out += String(repeating: "#", count: level) + " \(text)\n\n"
            case .text(let markdown):
                out += markdown.trimmingCharacters(in: .newlines) + "\n\n"
            case .table(let file, let caption, let markdown):
                out += "**\(caption)** ([Markdown](\(file).md), [CSV](\(file).csv))\n\n" + markdown + "\n"
            case .figure(let file, let caption):
                out += "![\(caption)](\(file))\n\n*\(caption)*\n\n"
            case .attachment(let file, let caption):
                out += "Attachment: [\(caption)](\(file))\n\n"
            }
        }

        out += "## Claims\n\n"
        if claims.isEmpty {
            out += "This run made no claims.\n\n"
        } else {
            out += "| claim | statement | measured | condition | verdict | kind | seeds |\n"
            out += "|---|---|---:|---|---|---|---|\n"
            for claim in claims {
                let cells = [claim.id, claim.statement, claim.measuredText, claim.conditionText,
                             claim.verdictMarkdown, claim.kind.rawValue,
                             claim.seeds.map(String.init).joined(separator: ", ")]
                out += "| " + cells.map(escapeMarkdownCell).joined(separator: " | ") + " |\n"
            }
            out += "\n\(verdictSummary(claims)).\n\n"
            let notes = claims.compactMap { claim -> String? in
                var parts: [String] = []
                if let note = claim.note { parts.append(note) }
                if claim.verdict == .inconclusive {
                    let unmet = claim.preconditions.filter { !$0.holds }
                        .map { "\($0.label) = \(formatNumber($0.measured)), needs \($0.comparison.text)" }
                    parts.append("*inconclusive*: precondition not met (" + unmet.joined(separator: "; ") + ")")
                }
                if let explanation = claim.explanation { parts.append(explanation) }
                return parts.isEmpty ? nil : "- `\(claim.id)`: " + parts.joined(separator: " ") + "\n"
            }
            if !notes.isEmpty { out += notes.joined() + "\n" }
        }

        out += "## Run\n\n"
        if !record.sections.isEmpty {
            out += "| section | wall time | CPU time |\n|---|---:|---:|\n"
            for section in record.sections {
                out += "| \(escapeMarkdownCell(section.name)) | \(formatDuration(section.seconds)) | "
                    + "\(section.cpuSeconds.map(formatDuration) ?? "–") |\n"
            }
            out += "\n"
        }
        out += "Total wall time \(formatDuration(record.wallSeconds)), CPU time "
            + "\(record.cpuSeconds.map(formatDuration) ?? "–"); peak memory "
            + "\(formatBytes(record.peakMemoryBytes)); Swift \(record.swift); \(record.openblas); "
            + "\(record.kernels ?? "portable") kernels; \(record.cpu ?? "unknown CPU"), \(record.cores) core(s), "
            + "\(record.operatingSystem).\n"
        return out
    }

    /// The claim table for the terminal: one line per claim, then how many hold.
    public func claimTableText() -> String {
        guard !claims.isEmpty else { return "\(title): no claims\n" }
        let rows = claims.map { claim in
            [claim.verdict.rawValue.uppercased(), claim.id, claim.measuredText, claim.conditionText, claim.kind.rawValue]
        }
        let header = ["", "claim", "measured", "condition", "kind"]
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            let padded = zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
            return String(padded.joined(separator: "  ").reversed().drop { $0 == " " }.reversed())
        }
        var out = "\(title) (\(paper), scale \(scale.rawValue))\n"
        out += ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
        out += "\(verdictSummary(claims)). Report: \(outputPath("REPORT.md"))\n"
        return out
    }

    // MARK: helpers

    private func pngMetadata(caption: String) -> [String: String] {
        ["Title": caption, "Software": "LabBook", "Paper": paper, "Command": Provenance.shellLine(command),
         "Commit": git.commit + (git.dirty ? " (dirty)" : ""), "Seed": String(seed), "Scale": scale.rawValue]
    }

    /// Names become file names: letters, digits, `-`, `_` and `.` only.
    private func checkFileName(_ name: String) throws {
        let allowed = !name.isEmpty && !name.hasPrefix(".") && name.allSatisfy {
            $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".")
        }
        guard allowed else {
            throw LabError.invalidArgument("'\(name)' is not a usable file name: use letters, digits, '-', '_' and '.'")
        }
    }

    /// Two outputs of one run must not overwrite each other.
    private func claimFileNames(_ files: [String]) throws {
        for file in files where writtenFiles.contains(file) {
            throw LabError.invalidArgument("\(outputPath(file)) was already written by this run; give the table or figure another name")
        }
        writtenFiles.formUnion(files)
    }

    private func log(_ line: String) {
        guard !quiet else { return }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// run.json: the run record's keys, then the paper's own facts (`Report.record`) at the same level.
private struct RecordWithFacts: Encodable {
    let record: RunRecord
    let facts: [String: any Encodable & Sendable]

    struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: Encoder) throws {
        try record.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        for (key, value) in facts { try container.encode(value, forKey: Key(stringValue: key)) }
    }
}

/// "850 ms", "12.3 s", "4 min 05 s", "1 h 02 min".
public func formatDuration(_ seconds: Double) -> String {
    if seconds < 1 { return "\(Int((seconds * 1000).rounded())) ms" }
    if seconds < 60 { return String(format: "%.1f s", seconds) }
    let whole = Int(seconds.rounded())
    if whole < 3600 { return String(format: "%d min %02d s", whole / 60, whole % 60) }
    return String(format: "%d h %02d min", whole / 3600, (whole % 3600) / 60)
}

/// "512 MiB".
func formatBytes(_ bytes: Int) -> String {
    let mebibytes = Double(bytes) / 1_048_576
    return mebibytes < 1024 ? String(format: "%.0f MiB", mebibytes) : String(format: "%.2f GiB", mebibytes / 1024)
}
