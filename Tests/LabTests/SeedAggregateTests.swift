import Foundation
import Testing
@testable import Lab
@testable import LabReport

/// A claims.json as written before verdicts existed (only `holds`) or after (`verdict` too).
private func claimsJSON(seed: Int, claims: [(id: String, measured: String, holds: Bool, verdict: String?)]) -> String {
    let entries = claims.map { claim in
        let verdict = claim.verdict.map { ", \"verdict\": \"\($0)\"" } ?? ""
        return """
            {"id": "\(claim.id)", "statement": "statement of \(claim.id)", "measured": \(claim.measured), \
            "comparison": ">=", "threshold": 0.5, "condition": ">= 0.5", "holds": \(claim.holds)\(verdict), \
            "kind": "paper", "seeds": [\(seed)]}
            """
    }
    return """
        {"paper": "arXiv:0000.00000", "title": "A paper", "scale": "smoke", "seed": \(seed),
         "claims": [\(entries.joined(separator: ", "))]}
        """
}

private func write(_ text: String, to path: String) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                            withIntermediateDirectories: true)
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}

@Suite struct SeedAggregateTests {
    @Test func meanAndSampleStandardDeviation() throws {
        // mean 2.5; squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, over n - 1 = 3: sd = sqrt(5/3)
        let statistics = try #require(SeedAggregate.meanAndStandardDeviation([1, 2, 3, 4]))
        #expect(statistics.mean == 2.5)
        #expect(abs(statistics.standardDeviation - (5.0 / 3).squareRoot()) < 1e-12)
        // non-finite values are left out; one value has sd 0; none has no statistics
        let withNaN = try #require(SeedAggregate.meanAndStandardDeviation([.nan, 7, .infinity]))
        #expect(withNaN.mean == 7 && withNaN.standardDeviation == 0)
        #expect(SeedAggregate.meanAndStandardDeviation([.nan]) == nil)
        #expect(SeedAggregate.meanAndStandardDeviation([]) == nil)
    }

    @Test func countsOnHowManySeedsEachClaimHolds() {
        let file = { (seed: Int, outcomes: [SeedOutcome]) in
            SeedClaimsFile(paper: "arXiv:1", title: nil, scale: "full", seed: seed, claims: outcomes.enumerated().map {
                SeedClaim(id: "c\($0.offset)", statement: "s", condition: nil, measured: Double(seed), outcome: $0.element)
            })
        }
        let aggregate = SeedAggregate.aggregate(folder: "paper", runs: [
            (0, .success(file(0, [.holds, .holds, .fails]))),
            (1, .success(file(1, [.holds, .fails, .inconclusive]))),
            (2, .success(file(2, [.holds, .holds, .fails]))),
        ])
        #expect(aggregate.claims.map(\.holdsOn) == [3, 2, 0])
        #expect(aggregate.claims.map(\.seedCount) == [3, 3, 3])
        #expect(aggregate.claims.map(\.holdsOnAllSeeds) == [true, false, false])
        #expect(aggregate.claims[2].perSeed.map(\.verdict) == [.fails, .inconclusive, .fails])
        #expect(aggregate.claims[0].mean == 1 && aggregate.claims[0].standardDeviation == 1)
        #expect(SeedAggregate.statusLine(aggregate) == "1 of 3 claims hold on all seeds (0, 1, 2); 1 holds on some")
        #expect(SeedAggregate.markdown(aggregate).contains("| c1: s |  | holds | **fails** | holds | 2 of 3 | 1 ± 1 |"))
    }

    @Test func reportsMissingAndInvalidSeedsAndReadsOldAndNewFiles() throws {
        let figures = ReportScratch.folder()
        defer { try? FileManager.default.removeItem(atPath: figures) }
        // seed 0: an old file (holds only); seed 1: a new one (verdict); seed 2: absent; seed 3: records seed 4
        try write(claimsJSON(seed: 0, claims: [("a", "0.75", true, nil), ("b", "0.25", false, nil)]),
                  to: "\(figures)/paper/claims.json")
        try write(claimsJSON(seed: 1, claims: [("a", "0.25", false, "inconclusive"), ("b", "\"nan\"", false, "fails")]),
                  to: "\(figures)/paper/seeds/1/claims.json")
        try write(claimsJSON(seed: 4, claims: [("a", "0.9", true, "holds")]), to: "\(figures)/paper/seeds/3/claims.json")

        let aggregate = try SeedAggregate.write(figures: figures, paper: "paper", seeds: [0, 1, 2, 3])
        #expect(aggregate.missing.map(\.seed) == [2, 3])
        #expect(aggregate.missing[0].path == "\(figures)/paper/seeds/2/claims.json")
        #expect(aggregate.missing[0].reason.contains("no claims.json"))
        #expect(aggregate.missing[1].reason == "the file records seed 4, not 3")
        let a = try #require(aggregate.claims.first { $0.id == "a" })
        #expect(a.perSeed.map(\.verdict) == [.holds, .inconclusive, .missing, .missing])
        #expect(a.holdsOn == 1 && a.seedCount == 4 && a.measuredCount == 2 && a.mean == 0.5)
        let b = try #require(aggregate.claims.first { $0.id == "b" })
        #expect(b.measuredCount == 1 && b.mean == 0.25 && b.standardDeviation == 0)
        #expect(SeedAggregate.statusLine(aggregate)
                == "0 of 2 claims hold on all seeds (0, 1, 2, 3); 1 holds on some; seeds 2, 3 missing (scale: smoke)")

        // the files it writes read back, and the README section is rebuilt between its markers
        let stored = try LabJSON.decoder.decode(
            PaperSeeds.self, from: try #require(FileManager.default.contents(atPath: "\(figures)/paper/claims-seeds.json")))
        #expect(stored.missing == aggregate.missing && stored.seeds == aggregate.seeds)
        #expect(stored.claims.map(\.holdsOn) == [1, 0] && stored.claims[0] == aggregate.claims[0])  // b holds a NaN
        #expect(try #require(ReportScratch.text("\(figures)/paper/table-seeds.md")).contains("Seed 2 missing"))
        let readme = "\(figures)/README.md"
        try write("intro\n\(SeedAggregate.beginMarker)\nstale table\n\(SeedAggregate.endMarker)\nrest\n", to: readme)
        #expect(try SeedAggregate.updateReadme(readmePath: readme, figures: figures) == 1)
        let text = try #require(ReportScratch.text(readme))
        #expect(!text.contains("stale table") && text.hasSuffix("\(SeedAggregate.endMarker)\nrest\n"))
        #expect(text.contains("0 of 2 claims hold on all seeds (0, 1, 2, 3)"))

        try write("no markers\n", to: readme)
        #expect(throws: LabError.self) { try SeedAggregate.updateReadme(readmePath: readme, figures: figures) }
    }
}
