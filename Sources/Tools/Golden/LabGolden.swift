import ArgumentParser
import Foundation
import LabReport

/// `make golden` / `make golden-update`: the golden smoke check (`GoldenCheck`).
@main
struct LabGolden: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab-golden",
        abstract: "Compare each paper's fresh smoke claims.json with its committed golden file (or update them).",
        discussion: """
            For each paper: <smoke>/<paper>/claims.json against <golden>/<paper>/claims.json, with the tolerance \
            and wall-clock claims of <golden>/tolerance.json: the same claims and verdicts, and values within the \
            tolerance. A paper without a golden file gets a notice (add it with `make golden-update`). Exit 1 when \
            a paper differs.

            Example: make golden   (= .build/release/lab-golden --smoke .smoke --golden Tests/Golden <papers>)
            """)

    @Option(help: "Folder of the fresh smoke runs, one sub-folder per paper.")
    var smoke = ".smoke"

    @Option(help: "Folder of the golden files: <paper>/claims.json and tolerance.json.")
    var golden = "Tests/Golden"

    @Flag(help: "Copy the fresh smoke claims over the golden files instead of comparing.")
    var update = false

    @Argument(help: "The papers (make targets).")
    var papers: [String]

    func run() throws {
        let tolerance = try GoldenCheck.GoldenTolerance.read(path: golden + "/tolerance.json")
        if update {
            for paper in papers {
                try GoldenCheck.update(paper: paper, smokeDirectory: smoke, goldenDirectory: golden, tolerance: tolerance)
            }
            print("lab-golden: \(papers.count) golden file(s) rewritten in \(golden)/ from \(smoke)/: review and commit them")
            return
        }
        var differing: [String] = []
        for paper in papers {
            switch try GoldenCheck.check(paper: paper, smokeDirectory: smoke, goldenDirectory: golden, tolerance: tolerance) {
            case .agrees:
                print("lab-golden: \(paper) agrees with \(golden)/\(paper)/claims.json")
            case .noGolden:
                print("lab-golden: notice: \(paper) has no golden file yet (\(golden)/\(paper)/claims.json); add it with `make golden-update`")
            case .differs(let lines):
                differing.append(paper)
                print("lab-golden: \(paper) differs from \(golden)/\(paper)/claims.json:")
                for line in lines { print("  " + line) }
            }
        }
        guard differing.isEmpty else {
            throw ValidationError("\(differing.joined(separator: ", ")) moved from the golden smoke results: if the change is meant, run `make golden-update` and commit Tests/Golden")
        }
    }
}
