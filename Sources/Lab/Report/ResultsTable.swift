import Foundation
import Lab

/// The README's results table, generated from every `figures/<paper>/claims.json` (`make results`):
/// one row per claim with the paper, the claim, the measured value, the condition, its verdict (holds, fails,
/// inconclusive), the scale, and the command that produces it. It replaces whatever stands between the two
/// marker comments.
public enum ResultsTable {
    public static let beginMarker = "<!-- results:begin -->"
    public static let endMarker = "<!-- results:end -->"

    /// One paper's results: the folder under figures/ (= make target = executable) and its claims.
    public struct PaperResults: Sendable, Equatable {
        public var folder: String
        public var claims: ClaimsFile

        public init(folder: String, claims: ClaimsFile) {
            self.folder = folder
            self.claims = claims
        }
    }

    /// Reads `<figuresDirectory>/*/claims.json`, sorted by folder name (a stable table). A folder that holds a
    /// paper's results (a `REPORT.md`, `run.json`, `fig-*` or `table-*` file) but no `claims.json` is an error
    /// naming the paper: its rows must not silently drop out of the README. Other folders (the plot gallery)
    /// are skipped.
    public static func collect(figuresDirectory: String) throws -> [PaperResults] {
        let folders: [String]
        do {
            folders = try FileManager.default.contentsOfDirectory(atPath: figuresDirectory).sorted()
        } catch {
            throw LabError.missingFile(path: figuresDirectory,
                                       fix: "run `make reproduce-all` (or one paper's make target) to write figures/")
        }
        return try folders.compactMap { folder in
            let folderPath = URL(fileURLWithPath: figuresDirectory).appendingPathComponent(folder).path
            let path = URL(fileURLWithPath: folderPath).appendingPathComponent("claims.json").path
            guard FileManager.default.fileExists(atPath: path) else {
                let files = (try? FileManager.default.contentsOfDirectory(atPath: folderPath)) ?? []
                guard files.contains(where: isPaperOutput) else { return nil }
                throw LabError.missingFile(
                    path: path, fix: "the paper '\(folder)' has results in \(folderPath) but no claims.json: "
                        + "rerun it (make \(folder)) or remove the folder")
            }
            return PaperResults(folder: folder, claims: try ClaimsFile.read(path: path))
        }
    }

    /// Whether a file is one a paper run writes (REPORT.md, run.json, fig-*.png, table-*).
    static func isPaperOutput(_ file: String) -> Bool {
        file == "REPORT.md" || file == "run.json" || file.hasPrefix("fig-") || file.hasPrefix("table-")
    }

    /// The Markdown table. Links point at `<linkPrefix>/<folder>/REPORT.md`. A full-scale result is
    /// produced by `make <folder>` (the Makefile's convention); any other by the command it recorded.
    public static func markdown(_ results: [PaperResults], linkPrefix: String = "figures") -> String {
        let rows = results.flatMap { paper in paper.claims.claims.map { (paper, $0) } }
        guard !rows.isEmpty else { return "No results yet: run `make reproduce-all`.\n" }
        var out = "| paper | claim | measured | threshold | verdict | scale | command |\n"
        out += "|---|---|---:|---|---|---|---|\n"
        for (paper, claim) in rows {
            let file = paper.claims
            let name = file.title.map { "[\($0)](\(linkPrefix)/\(paper.folder)/REPORT.md) (\(file.paper))" }
                ?? "[\(file.paper)](\(linkPrefix)/\(paper.folder)/REPORT.md)"
            let command = file.scale == .full ? "make \(paper.folder)" : (file.command ?? "unknown")
            let cells = [name, "\(claim.id): \(claim.statement)", claim.measuredText, claim.conditionText,
                         claim.verdictMarkdown, file.scale.rawValue, "`\(command)`"]
            out += "| " + cells.map(escapeMarkdownCell).joined(separator: " | ") + " |\n"
        }
        out += "\n\(verdictSummary(rows.map(\.1))).\n"
        return out
    }

    /// `readme` with the text between the markers replaced by `table`.
    public static func replacingTable(in readme: String, with table: String, readmePath: String) throws -> String {
        guard let begin = readme.range(of: beginMarker), let end = readme.range(of: endMarker),
              begin.upperBound <= end.lowerBound else {
            throw LabError.corruptFile(
                path: readmePath,
                reason: "no '\(beginMarker)' followed by '\(endMarker)': put the two markers where the results table goes")
        }
        return String(readme[..<begin.upperBound]) + "\n" + table + String(readme[end.lowerBound...])
    }

    // MARK: the papers table's status column

    public static let papersBeginMarker = "<!-- papers:begin -->"
    public static let papersEndMarker = "<!-- papers:end -->"


    /// One paper's status: "full scale, seed 0 (averaging seeds 0, 1, 2), 5.3 min: 7 of 11 claims hold, 4 fail;
    /// fails: a, b; inconclusive: c" — scale, seed(s) and wall time from claims.json and run.json, the verdict
    /// counts, and the ids of the claims that fail and of those that are inconclusive; then, when the paper ran
    /// on several seeds (its claims-seeds.json), "; over seeds: 9 of 11 claims hold on all seeds (0, 1, 2); ...".
    public static func statusLine(_ claims: ClaimsFile, wallSeconds: Double?, seeds: PaperSeeds? = nil) -> String {
        var text = "\(claims.scale.rawValue) scale, seed \(claims.seed)"
        if let seeds = claims.seeds, seeds.count > 1 {
            text += " (averaging seeds \(seeds.map(String.init).joined(separator: ", ")))"
        }
        if let wallSeconds {
            text += wallSeconds < 60 ? String(format: ", %.0f s", wallSeconds) : String(format: ", %.1f min", wallSeconds / 60)
        }
        text += ": " + verdictSummary(claims.claims)
        for verdict in [Verdict.fails, .inconclusive] {
            let ids = claims.claims.filter { $0.verdict == verdict }.map(\.id)
            if !ids.isEmpty { text += "; \(verdict == .fails ? "fails" : "inconclusive"): " + ids.joined(separator: ", ") }
        }
        if let seeds, seeds.seeds.count > 1 { text += "; over seeds: " + SeedAggregate.statusLine(seeds) }
        return text
    }

    /// `readme` with the status cell (the last column) of each row between the papers markers regenerated for
    /// every paper in `results`, found by its make target in backticks (`` `hypersound` ``); rows of papers
    /// without results (planned ones) stay as they are.
    public static func replacingStatuses(in readme: String, results: [PaperResults], wallSeconds: [String: Double],
                                         seeds: [String: PaperSeeds] = [:], readmePath: String) throws -> String {
        guard let begin = readme.range(of: papersBeginMarker), let end = readme.range(of: papersEndMarker),
              begin.upperBound <= end.lowerBound else {
            throw LabError.corruptFile(
                path: readmePath,
                reason: "no '\(papersBeginMarker)' followed by '\(papersEndMarker)': put the two markers around the papers table")
        }
        let byFolder = Dictionary(results.map { ($0.folder, $0) }, uniquingKeysWith: { first, _ in first })
        var seen: Set<String> = []
        let lines = readme[begin.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false).map { line in
            var cells = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            // "| a | b | `target` | status |" splits into "", " a ", " b ", " `target` ", " status ", "".
            guard cells.count >= 4,
                  let folder = cells.dropFirst().dropLast(2).lazy.map({ $0.trimmingCharacters(in: .whitespaces) })
                      .first(where: { $0.hasPrefix("`") && $0.hasSuffix("`") && byFolder[String($0.dropFirst().dropLast())] != nil })
                      .map({ String($0.dropFirst().dropLast()) }),
                  let paper = byFolder[folder] else { return String(line) }
            seen.insert(folder)
            cells[cells.count - 2] = " " + escapeMarkdownCell(statusLine(paper.claims, wallSeconds: wallSeconds[folder], seeds: seeds[folder])) + " "
            return cells.joined(separator: "|")
        }
        if let missing = results.map(\.folder).first(where: { !seen.contains($0) }) {
            throw LabError.corruptFile(path: readmePath, reason: "the papers table has no row with make target `\(missing)`, which has results: add its row")
        }
        return String(readme[..<begin.upperBound]) + lines.joined(separator: "\n") + String(readme[end.lowerBound...])
    }


    /// Each paper's aggregate over seeds (`claims-seeds.json`, written by lab-seeds), where there is one. One
    /// that does not decode is an error naming the file.
    static func seedAggregates(_ results: [PaperResults], figuresDirectory: String) throws -> [String: PaperSeeds] {
        var aggregates: [String: PaperSeeds] = [:]
        for paper in results {
            let path = "\(figuresDirectory)/\(paper.folder)/\(SeedAggregate.aggregateFileName)"
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            do {
                aggregates[paper.folder] = try LabJSON.decoder.decode(PaperSeeds.self, from: data)
            } catch {
                throw LabError.corruptFile(path: path, reason: "not a \(SeedAggregate.aggregateFileName): \(describeDecodingError(error))")
            }
        }
        return aggregates
    }

    /// Regenerates the results table, the papers table's status column and the wall-time section
    /// (`WallTimeTable`) in `readmePath` (atomically) and returns the results they show.
    @discardableResult
    public static func update(readmePath: String, figuresDirectory: String) throws -> [PaperResults] {
        guard let data = FileManager.default.contents(atPath: readmePath) else {
            throw LabError.missingFile(path: readmePath, fix: "run lab-results from the repository root, or pass --readme")
        }
        let results = try collect(figuresDirectory: figuresDirectory)
        let readme = String(decoding: data, as: UTF8.self)
        let times = try WallTimeTable.collect(figuresDirectory: figuresDirectory)
        let withStatuses = try replacingStatuses(in: readme, results: results,
                                                 wallSeconds: Dictionary(times.map { ($0.folder, $0.wallSeconds) },
                                                                         uniquingKeysWith: { first, _ in first }),
                                                 seeds: try seedAggregates(results, figuresDirectory: figuresDirectory),
                                                 readmePath: readmePath)
        let withTable = try replacingTable(in: withStatuses, with: markdown(results, linkPrefix: figuresDirectory),
                                           readmePath: readmePath)
        let updated = try WallTimeTable.replacingSection(
            in: withTable, with: WallTimeTable.markdown(times),
            readmePath: readmePath)
        if updated != readme { try AtomicFile.write(updated, to: readmePath) }
        return results
    }
}
