import ArgumentParser
import LabReport

/// `make results`: rewrites the README's results table (between `<!-- results:begin -->` and
/// `<!-- results:end -->`) from every figures/*/claims.json, atomically.
@main
struct LabResults: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab-results",
        abstract: "Regenerate the README results table from every figures/*/claims.json.",
        discussion: """
            One row per claim: paper, claim, measured value, threshold, verdict (holds, fails, or inconclusive when \
            a precondition of the claim is not met), scale, and the command that produces it. The table replaces \
            the text between the marker comments \(ResultsTable.beginMarker) and \(ResultsTable.endMarker). \
            A paper folder with results but no claims.json is an error (exit 1) naming the paper.

            Example: make results   (= .build/release/lab-results --figures figures --readme README.md)
            """)

    @Option(help: "Folder with one sub-folder per paper, each holding a claims.json.")
    var figures = "figures"

    @Option(help: "The README whose results table is regenerated.")
    var readme = "README.md"

    func run() throws {
        let results = try ResultsTable.update(readmePath: readme, figuresDirectory: figures)
        let claims = results.flatMap(\.claims.claims)
        print("lab-results: \(readme) results table regenerated from \(results.count) paper(s) in "
              + "\(figures)/*/claims.json: \(verdictSummary(claims))")
    }
}
