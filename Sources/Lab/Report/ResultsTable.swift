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

    /// Regenerates the table in `readmePath` (atomically) and returns the results it shows.
    @discardableResult
    public static func update(readmePath: String, figuresDirectory: String) throws -> [PaperResults] {
        guard let data = FileManager.default.contents(atPath: readmePath) else {
            throw LabError.missingFile(path: readmePath, fix: "run lab-results from the repository root, or pass --readme")
        }
        let results = try collect(figuresDirectory: figuresDirectory)
        let readme = String(decoding: data, as: UTF8.self)
        let updated = try replacingTable(in: readme, with: markdown(results, linkPrefix: figuresDirectory),
                                         readmePath: readmePath)
        if updated != readme { try AtomicFile.write(updated, to: readmePath) }
        return results
    }
}
