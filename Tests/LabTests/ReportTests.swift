import Foundation
import Testing
@testable import Lab
@testable import LabReport

/// Scratch files of the Report and Run tests.
enum ReportScratch {
    /// A fresh folder under the system's temporary directory (each test removes its own).
    static func folder(_ name: String = #function) -> String {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("labtests-\(name.filter { $0.isLetter })-\(UUID().uuidString.prefix(8))").path
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    /// The file's content as UTF-8, or nil when it does not exist.
    static func text(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// Stands in for Lab.Plot's Figure: writes a few bytes, or fails halfway when told to.
private struct FakeFigure: PNGWritable {
    final class Log: @unchecked Sendable { var metadata: [String: String] = [:] }
    let bytes: String
    var failHalfway = false
    let log = Log()

    func savePNG(to path: String, metadata: [String: String]) throws {
        log.metadata = metadata
        try Data(bytes.prefix(failHalfway ? bytes.count / 2 : bytes.count).utf8).write(to: URL(fileURLWithPath: path))
        if failHalfway { throw LabError.io(path: path, reason: "disk full (simulated)") }
    }
}

@Suite struct ReportTests {
    @Test func everyComparisonJudgesItsBoundary() {
        #expect(Comparison.lessThan(1).holds(0.999) && !Comparison.lessThan(1).holds(1))
        #expect(Comparison.atMost(1).holds(1) && !Comparison.atMost(1).holds(1.0001))
        #expect(Comparison.greaterThan(0.9).holds(0.91) && !Comparison.greaterThan(0.9).holds(0.9))
        #expect(Comparison.atLeast(0.9).holds(0.9) && !Comparison.atLeast(0.9).holds(0.8999))
        #expect(Comparison.equal(3).holds(3) && !Comparison.equal(3).holds(3.0000001))
        #expect(Comparison.within(0.5, tolerance: 0.01).holds(0.509))
        #expect(Comparison.within(0.5, tolerance: 0.01).holds(0.491))
        #expect(!Comparison.within(0.5, tolerance: 0.01).holds(0.52))
        #expect(Comparison.inRange(0.1, 0.3).holds(0.1) && Comparison.inRange(0.1, 0.3).holds(0.3))
        #expect(!Comparison.inRange(0.1, 0.3).holds(0.31) && !Comparison.inRange(0.1, 0.3).holds(0.09))
        #expect(Comparison.atLeast(0).holds(.infinity) && !Comparison.atMost(0).holds(.infinity))
    }

    @Test func nanNeverHolds() {
        let all: [Comparison] = [.lessThan(1), .atMost(1), .greaterThan(1), .atLeast(1), .equal(1),
                                 .within(1, tolerance: 1e9), .inRange(-1e9, 1e9)]
        for comparison in all {
            #expect(!comparison.holds(.nan), "\(comparison.symbol) held for NaN")
        }
        #expect(!Comparison.atMost(.nan).holds(0))
        #expect(!Comparison.within(.nan, tolerance: 1).holds(0))
        let claim = Claim(id: "x", statement: "s", measured: .nan, .atLeast(0), seeds: [0])
        #expect(!claim.holds)
    }

    @Test func twoConditionClaimHoldsOnlyIfBothHold() {
        func claim(_ eoi: Double, _ baseline: Double) -> Claim {
            Claim(id: "depth-1000", statement: "EOI trains at depth 1000 and orthogonal init does not",
                  measured: eoi, .atLeast(0.9),
                  and: [Condition("orthogonal init accuracy", measured: baseline, .atMost(0.2))],
                  kind: .paper, seeds: [0, 1, 2])
        }
        #expect(claim(0.95, 0.1).holds)
        #expect(!claim(0.95, 0.5).holds)
        #expect(!claim(0.5, 0.1).holds)
        #expect(!claim(0.95, .nan).holds)
        #expect(claim(0.95, 0.1).measuredText == "0.95; 0.1")
        #expect(claim(0.95, 0.1).conditionText == ">= 0.9; <= 0.2 (orthogonal init accuracy)")
    }

    @Test func unmetPreconditionMakesTheClaimInconclusive() {
        func claim(gap: Double, trainRatio: Double) -> Claim {
            Claim(id: "generalisation-gap", statement: "test quality is close to training quality",
                  measured: gap, .atMost(1.25),
                  given: [Condition("MSE(model)/MSE(zero), training clips", measured: trainRatio, .atMost(0.7))],
                  seeds: [0], whenFails: "test/train L1 = \(gap)")
        }
        // A model as bad on training clips as on test clips has no gap, but says nothing about generalisation.
        let vacuous = claim(gap: 1.0, trainRatio: 1.02)
        #expect(vacuous.verdict == .inconclusive && !vacuous.holds)
        #expect(vacuous.explanation == "test/train L1 = 1.0")
        #expect(vacuous.measured == 1.0)
        #expect(claim(gap: 1.0, trainRatio: 0.5).verdict == .holds)
        #expect(claim(gap: 1.0, trainRatio: 0.5).explanation == nil)
        #expect(claim(gap: 2.0, trainRatio: 0.5).verdict == .fails)
        #expect(claim(gap: 2.0, trainRatio: .nan).verdict == .inconclusive)
        #expect(vacuous.measuredText == "1; given 1.02")
        #expect(vacuous.conditionText == "<= 1.25; given <= 0.7 (MSE(model)/MSE(zero), training clips)")
        #expect(vacuous.verdictMarkdown == "*inconclusive*")
        #expect(verdictSummary([vacuous, claim(gap: 1.0, trainRatio: 0.5), claim(gap: 2.0, trainRatio: 0.5)])
                == "1 of 3 claims hold, 1 fails, 1 inconclusive")
    }

    @Test func failureExplanationIsComputedOnlyWhenTheClaimDoesNotHold() {
        final class Counter: @unchecked Sendable { var calls = 0 }
        let counter = Counter()
        func explain() -> String { counter.calls += 1; return "too small" }
        let holding = Claim(id: "a", statement: "s", measured: 1, .atLeast(0), seeds: [0], whenFails: explain())
        #expect(holding.explanation == nil && counter.calls == 0)
        let failing = Claim(id: "a", statement: "s", measured: -1, .atLeast(0), seeds: [0], whenFails: explain())
        #expect(failing.explanation == "too small" && counter.calls == 1)
    }

    @Test func verdictRoundTripsAndAHandEditedVerdictIsRejected() throws {
        let file = ClaimsFile(paper: "arXiv:1", title: nil, scale: .smoke, seed: 0, seeds: nil, command: nil, claims: [
            Claim(id: "gap", statement: "s", measured: 1, .atMost(1.25),
                  given: [Condition("train ratio", measured: 1.02, .atMost(0.7))], seeds: [0], whenFails: "why"),
            Claim(id: "ok", statement: "s", measured: 1, .atMost(1.25), seeds: [0]),
        ])
        let data = try LabJSON.encoder.encode(file)
        #expect(try LabJSON.decoder.decode(ClaimsFile.self, from: data) == file)
        let claims = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["claims"] as? [[String: Any]])
        #expect(claims[0]["verdict"] as? String == "inconclusive" && claims[0]["holds"] as? Bool == false)
        #expect(claims[0]["explanation"] as? String == "why" && (claims[0]["given"] as? [Any])?.count == 1)
        #expect(claims[1]["verdict"] as? String == "holds" && claims[1]["holds"] as? Bool == true)

        let edited = String(decoding: data, as: UTF8.self)
            .replacingOccurrences(of: "\"verdict\" : \"inconclusive\"", with: "\"verdict\" : \"fails\"")
        #expect(edited != String(decoding: data, as: UTF8.self))
        #expect {
            try LabJSON.decoder.decode(ClaimsFile.self, from: Data(edited.utf8))
        } throws: { error in "\(error)".contains("verdict is 'fails'") }
    }

    @Test func inconclusiveClaimIsShownInReportAndClaimTable() throws {
        let folder = ReportScratch.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let report = Report(paper: "arXiv:1", title: "T", outputDirectory: folder, quiet: true)
        var printed = ""
        report.printClaimTable = { printed += $0 }
        try report.claim(Claim(id: "gap", statement: "s", measured: 1, .atMost(1.25),
                               given: [Condition("train ratio", measured: 1.02, .atMost(0.7))], seeds: [0]))
        try report.finish()
        let markdown = try #require(ReportScratch.text(folder + "/REPORT.md"))
        #expect(markdown.contains("| gap | s | 1; given 1.02 | <= 1.25; given <= 0.7 (train ratio) | *inconclusive* | paper | 0 |"))
        #expect(markdown.contains("0 of 1 claims hold, 1 inconclusive."))
        #expect(markdown.contains("- `gap`: *inconclusive*: precondition not met (train ratio = 1.02, needs <= 0.7)"))
        #expect(printed.contains("INCONCLUSIVE  gap"))
    }

    @Test func claimsJSONRoundTripsThroughJSONDecoder() throws {
        let file = ClaimsFile(
            paper: "arXiv:2406.01755", title: "Exact orthogonal init", scale: .full, seed: 0, seeds: [0, 1],
            command: "exact-orthogonal-init --scale full",
            claims: [
                Claim(id: "orthogonality", statement: "EOI weights are orthogonal", measured: 3.1e-7,
                      .atMost(1e-5), kind: .exact, seeds: [0]),
                Claim(id: "gap", statement: "gap is about 4 points", measured: 3.7, .within(4, tolerance: 1),
                      seeds: [0, 1], note: "smaller network than the paper"),
                Claim(id: "range", statement: "ECE in range", measured: 0.5, .inRange(0.1, 0.3), seeds: [1]),
                Claim(id: "two", statement: "both", measured: 0.95, .greaterThan(0.9),
                      and: [Condition("baseline", measured: 0.1, .lessThan(0.2))], seeds: [0]),
            ])
        let data = try LabJSON.encoder.encode(file)
        let decoded = try JSONDecoder().decode(ClaimsFile.self, from: data)
        #expect(decoded == file)
        #expect(decoded.claims.map(\.holds) == [true, true, false, true])

        // The keys of DESIGN.md section 3 are there, with `holds` computed.
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["paper"] as? String == "arXiv:2406.01755")
        #expect(object["scale"] as? String == "full")
        #expect(object["seed"] as? Int == 0)
        let first = try #require((object["claims"] as? [[String: Any]])?.first)
        for key in ["id", "statement", "measured", "comparison", "threshold", "holds", "kind", "seeds"] {
            #expect(first[key] != nil, "claims.json lacks \(key)")
        }
        #expect(first["comparison"] as? String == "<=")
        #expect(first["holds"] as? Bool == true)
    }

    @Test func designExampleAndNonFiniteValuesDecode() throws {
        let example = #"""
            {"paper": "arXiv:2406.01755", "scale": "full", "seed": 0,
             "claims": [{"id": "orthogonality", "statement": "EOI weights are orthogonal at every density",
                         "measured": 3.1e-7, "comparison": "<=", "threshold": 1e-5, "holds": true}]}
            """#
        let decoded = try JSONDecoder().decode(ClaimsFile.self, from: Data(example.utf8))
        #expect(decoded.claims[0].holds && decoded.claims[0].comparison == .atMost(1e-5))

        let broken = ClaimsFile(paper: "arXiv:1", title: nil, scale: .smoke, seed: 1, seeds: nil, command: nil,
                                claims: [Claim(id: "loss", statement: "s", measured: .nan, .atMost(1), seeds: [1]),
                                         Claim(id: "big", statement: "s", measured: .infinity, .atLeast(1), seeds: [1])])
        let back = try LabJSON.decoder.decode(ClaimsFile.self, from: try LabJSON.encoder.encode(broken))
        #expect(back.claims[0].measured.isNaN && !back.claims[0].holds)
        #expect(back.claims[1].measured == .infinity && back.claims[1].holds)
    }

    @Test func handEditedVerdictIsRejected() throws {
        let folder = ReportScratch.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/claims.json"
        let edited = #"""
            {"paper": "arXiv:1", "scale": "full", "seed": 0,
             "claims": [{"id": "acc", "statement": "s", "measured": 0.5, "comparison": ">=", "threshold": 0.9,
                         "holds": true}]}
            """#
        try edited.write(toFile: path, atomically: false, encoding: .utf8)
        #expect {
            try ClaimsFile.read(path: path)
        } throws: { error in
            guard case LabError.corruptFile(let badPath, let reason) = error else { return false }
            return badPath == path && reason.contains("holds is true")
        }
        let unknown = edited.replacingOccurrences(of: "\">=\"", with: "\"~\"").replacingOccurrences(of: "true", with: "false")
        try unknown.write(toFile: path, atomically: false, encoding: .utf8)
        #expect(throws: LabError.self) { try ClaimsFile.read(path: path) }
    }

    @Test func failedWriteLeavesThePreviousFileIntact() throws {
        let folder = ReportScratch.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/REPORT.md"
        try AtomicFile.write("old report\n", to: path)

        // The producer fails after writing half of the new content.
        #expect(throws: LabError.self) {
            try AtomicFile.write(to: path) { sink in
                try sink.write("new report, first half ")
                throw LabError.io(path: path, reason: "disk full (simulated)")
            }
        }
        #expect(ReportScratch.text(path) == "old report\n")

        // The rename fails: the destination is a folder.
        let folderInTheWay = folder + "/claims.json"
        try FileManager.default.createDirectory(atPath: folderInTheWay + "/keep", withIntermediateDirectories: true)
        #expect(throws: LabError.self) { try AtomicFile.write("{}", to: folderInTheWay) }
        #expect(FileManager.default.fileExists(atPath: folderInTheWay + "/keep"))

        // No temporary file is left behind; a successful write replaces the content.
        let left = try FileManager.default.contentsOfDirectory(atPath: folder)
        #expect(left.sorted() == ["REPORT.md", "claims.json"])
        try AtomicFile.write("new report\n", to: path)
        #expect(ReportScratch.text(path) == "new report\n")
    }

    @Test func reportWritesMarkdownClaimsAndRunRecord() throws {
        let scratch = ReportScratch.folder()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let folder = scratch + "/out"
        let report = Report(paper: "arXiv:2406.01755", title: "Exact orthogonal init", outputDirectory: folder,
                            scale: .smoke, seed: 3, seeds: [3, 4], command: ["eoi", "--scale", "smoke", "--seed", "3"],
                            quiet: true)
        var printed = ""
        report.printClaimTable = { printed += $0 }
        report.text("What this run shows.")
        let figure = FakeFigure(bytes: "PNG bytes")
        try report.section("Jacobian spectra") {
            var table = Table(header: ["init", "depth", "accuracy"])
            table.append(["EOI", 1000, .number(0.9312)])
            table.append(["orthogonal, \"plain\"", 1000, 0.1])
            try report.table(table, name: "accuracy", caption: "Test accuracy at depth 1000")
            try report.figure(figure, name: "fig-jacobian-sv", caption: "Singular values")
        }
        try Data("RIFF".utf8).write(to: URL(fileURLWithPath: report.outputPath("sample.wav")))
        try report.attach("sample.wav", caption: "a generated sample")
        try report.claim(Claim(id: "orthogonality", statement: "EOI weights are orthogonal", measured: 3.1e-7,
                               .atMost(1e-5), kind: .exact, seeds: [3]))
        try report.claim(Claim(id: "depth", statement: "EOI trains deep", measured: 0.5, .atLeast(0.9),
                               seeds: [3, 4], note: "smoke scale"))
        #expect(throws: LabError.self) {
            try report.claim(Claim(id: "depth", statement: "again", measured: 1, .atLeast(0), seeds: [3]))
        }
        try report.record("data_sha256", ["data/x.idx": "stale"])
        try report.record("data_sha256", ["data/x.idx": "abc"])
        #expect(throws: LabError.self) { try report.record("seed", 4) }
        #expect(throws: LabError.self) { try report.record("", 4) }
        try report.finish()
        #expect(throws: LabError.self) { try report.finish() }

        let markdown = try #require(ReportScratch.text(folder + "/REPORT.md"))
        #expect(markdown.hasPrefix("# Exact orthogonal init\n"))
        #expect(markdown.contains("## Jacobian spectra"))
        #expect(markdown.contains("| claim | statement | measured | condition | verdict | kind | seeds |"))
        #expect(markdown.contains("| orthogonality | EOI weights are orthogonal | 3.1e-07 | <= 1e-05 | holds | exact | 3 |"))
        #expect(markdown.contains("| depth | EOI trains deep | 0.5 | >= 0.9 | **fails** | paper | 3, 4 |"))
        #expect(markdown.contains("1 of 2 claims hold, 1 fails."))
        #expect(markdown.contains("![Singular values](fig-jacobian-sv.png)"))
        #expect(markdown.contains("| EOI | 1000 | 0.9312 |"))
        #expect(markdown.contains("[a generated sample](sample.wav)"))
        #expect(markdown.range(of: "What this run shows.")!.lowerBound < markdown.range(of: "## Jacobian spectra")!.lowerBound)

        #expect(ReportScratch.text(folder + "/table-accuracy.csv") == "init,depth,accuracy\nEOI,1000,0.9312\n\"orthogonal, \"\"plain\"\"\",1000,0.1\n")
        #expect(ReportScratch.text(folder + "/fig-jacobian-sv.png") == "PNG bytes")
        for key in ["Command", "Commit", "Seed", "Scale", "Paper"] {
            #expect(figure.log.metadata[key] != nil, "PNG metadata lacks \(key)")
        }
        #expect(figure.log.metadata["Seed"] == "3" && figure.log.metadata["Scale"] == "smoke")

        let claims = try ClaimsFile.read(path: folder + "/claims.json")
        #expect(claims.claims == report.claims && claims.scale == .smoke && claims.seed == 3 && claims.seeds == [3, 4])

        let runData = try #require(FileManager.default.contents(atPath: folder + "/run.json"))
        let run = try #require(try JSONSerialization.jsonObject(with: runData) as? [String: Any])
        for key in ["command", "commandLine", "seed", "seeds", "scale", "git", "swift", "openblas", "threads",
                    "sections", "wallSeconds", "peakMemoryBytes", "hostname", "started", "finished"] {
            #expect(run[key] != nil, "run.json lacks \(key)")
        }
        let sections = try #require(run["sections"] as? [[String: Any]])
        #expect(sections.first?["name"] as? String == "Jacobian spectra")
        #expect(sections.first?["cpuSeconds"] is Double && run["cpuSeconds"] is Double)
        #expect(run["data_sha256"] as? [String: String] == ["data/x.idx": "abc"])
        #expect(markdown.contains("| section | wall time | CPU time |"))
        #expect((run["peakMemoryBytes"] as? Int ?? 0) > 1_000_000)
        #expect((run["openblas"] as? String ?? "").contains("OpenBLAS"))
        #expect(run["kernels"] as? String == Parallel.kernels.rawValue && run["cpu"] is String)
        let git = try #require(run["git"] as? [String: Any])
        #expect(git["commit"] is String && git["dirty"] is Bool)

        #expect(printed.contains("HOLDS  orthogonality"))
        #expect(printed.contains("FAILS  depth"))
        #expect(printed.contains("1 of 2 claims hold, 1 fails."))
    }

    @Test func failedFinishOrFigureKeepsThePreviousRun() throws {
        let folder = ReportScratch.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func makeReport() -> Report {
            let report = Report(paper: "arXiv:1", title: "T", outputDirectory: folder, quiet: true)
            report.printClaimTable = { _ in }
            return report
        }
        let first = makeReport()
        try first.figure(FakeFigure(bytes: "first figure"), name: "fig-a", caption: "a")
        try first.claim(Claim(id: "a", statement: "s", measured: 1, .equal(1), seeds: [0]))
        try first.finish()
        let firstReport = try #require(ReportScratch.text(folder + "/REPORT.md"))

        // A second run whose figure breaks halfway, and whose claims.json cannot be written.
        let second = makeReport()
        #expect(throws: LabError.self) {
            try second.figure(FakeFigure(bytes: "second figure", failHalfway: true), name: "fig-a", caption: "a")
        }
        #expect(ReportScratch.text(folder + "/fig-a.png") == "first figure")
        try FileManager.default.createDirectory(atPath: second.workingDirectory + "/claims.json/blocker",
                                                withIntermediateDirectories: true)
        #expect(throws: LabError.self) { try second.finish() }
        #expect(ReportScratch.text(folder + "/REPORT.md") == firstReport)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).allSatisfy { !$0.hasPrefix(".") })
    }

    @Test func outputFolderIsPublishedWholeAndReplacesTheOldOneOnlyAtTheEnd() throws {
        let scratch = ReportScratch.folder()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let folder = scratch + "/paper"
        func run(_ figures: [String], seed: Int) throws -> Report {
            let report = Report(paper: "arXiv:1", title: "T", outputDirectory: folder, seed: seed, quiet: true)
            report.printClaimTable = { _ in }
            for name in figures { try report.figure(FakeFigure(bytes: "seed \(seed)"), name: name, caption: name) }
            return report
        }
        try run(["fig-a", "fig-b"], seed: 0).finish()
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder))
                == ["fig-a.png", "fig-b.png", "claims.json", "run.json", "REPORT.md"])

        // While the second run works, the folder is the first run's; the second writes beside it.
        let second = try run(["fig-a"], seed: 1)
        #expect(ReportScratch.text(folder + "/fig-a.png") == "seed 0")
        #expect(ReportScratch.text(second.outputPath("fig-a.png")) == "seed 1")
        #expect(URL(fileURLWithPath: second.workingDirectory).deletingLastPathComponent().path
                == URL(fileURLWithPath: folder).deletingLastPathComponent().path)
        try second.finish()
        // Published whole: no fig-b of the first run beside the second's fig-a, nothing left beside the folder.
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder))
                == ["fig-a.png", "claims.json", "run.json", "REPORT.md"])
        #expect(ReportScratch.text(folder + "/fig-a.png") == "seed 1")
        #expect(second.outputPath("claims.json") == URL(fileURLWithPath: folder).appendingPathComponent("claims.json").path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch) == ["paper"])
    }

    /// `make <paper> SEEDS=...`: seed n publishes into `<paper>/seeds/<n>/`, possibly before seed 0 runs; seed 0
    /// accepts a folder holding only `seeds/` and its publish carries `seeds/` over instead of deleting it.
    @Test func seedZeroKeepsTheFurtherSeedsFolder() throws {
        let scratch = ReportScratch.folder()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let folder = scratch + "/paper"
        func run(_ destination: String, seed: Int) throws {
            let report = Report(paper: "arXiv:1", title: "T", outputDirectory: destination, seed: seed, quiet: true)
            report.printClaimTable = { _ in }
            try report.figure(FakeFigure(bytes: "seed \(seed)"), name: "fig-a", caption: "a")
            try report.finish()
        }
        try run(folder + "/seeds/1", seed: 1)
        try run(folder, seed: 0)
        #expect(ReportScratch.text(folder + "/seeds/1/fig-a.png") == "seed 1")
        try run(folder, seed: 0)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder))
                == ["fig-a.png", "claims.json", "run.json", "REPORT.md", "seeds"])
        #expect(ReportScratch.text(folder + "/seeds/1/fig-a.png") == "seed 1")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch) == ["paper"])
    }

    @Test func leftoversOfKilledRunsAreCleanedAtTheNextStart() throws {
        let scratch = ReportScratch.folder()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        // pid 2^22 + 1 is above Linux's pid_max limit, so no process has it; our own pid is alive.
        let dead = [".paper.tmp-4194305-abc", ".paper.old-4194305-def"], alive = ".paper.tmp-\(getpid())-xyz"
        for name in dead + [alive, ".other.tmp-4194305-abc"] {
            try AtomicFile.write("partial", to: scratch + "/" + name + "/fig-a.png")
        }
        let report = Report(paper: "arXiv:1", title: "T", outputDirectory: scratch + "/paper", quiet: true)
        report.printClaimTable = { _ in }
        try report.prepareOutputFolder()
        let entries = Set(try FileManager.default.contentsOfDirectory(atPath: scratch))
        #expect(entries.isDisjoint(with: dead))
        #expect(entries.contains(alive) && entries.contains(".other.tmp-4194305-abc"))
        try report.finish()
    }

    @Test func dangerousOrUnwritableOutputFoldersAreRefusedBeforeAnyWrite() throws {
        let scratch = ReportScratch.folder()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try AtomicFile.write("a file", to: scratch + "/file")
        try AtomicFile.write("notes", to: scratch + "/foreign/notes.txt")
        let cases = ["/": "root folder", ".": "current or home folder", "..": "current or home folder",
                     NSHomeDirectory(): "current or home folder", scratch + "/file": "is a file",
                     scratch + "/file/out": "exists and is not a folder", scratch + "/foreign": "not a previous run's output"]
        for (destination, reason) in cases {
            let report = Report(paper: "arXiv:1", title: "T", outputDirectory: destination, quiet: true)
            #expect(throws: LabError.self, "\(destination) was accepted") { try report.prepareOutputFolder() }
            do { try report.prepareOutputFolder() } catch {
                #expect("\(error)".contains(reason), "\(destination): \(error)")
            }
        }
        #expect(ReportScratch.text(scratch + "/file") == "a file")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch + "/foreign") == ["notes.txt"])
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: scratch)) == ["file", "foreign"])
    }

    @Test func badTablesAndNamesAreRejected() throws {
        let folder = ReportScratch.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let report = Report(paper: "arXiv:1", title: "T", outputDirectory: folder, quiet: true)
        let ragged = Table(header: ["a", "b"], rows: [[1, 2], [3]])
        #expect(throws: LabError.self) { try report.table(ragged, name: "ragged", caption: "c") }
        #expect(throws: LabError.self) { try report.table(Table(header: ["a"]), name: "../escape", caption: "c") }
        try report.table(Table(header: ["a"], rows: [[1]]), name: "ok", caption: "c")
        #expect(throws: LabError.self) { try report.table(Table(header: ["a"], rows: [[2]]), name: "ok", caption: "c") }
        #expect(throws: LabError.self) { try report.attach("missing.wav", caption: "c") }
    }

    @Test func nanOrInfinityStopsTheRunInsteadOfBecomingAResult() throws {
        let folder = ReportScratch.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let report = Report(paper: "arXiv:1", title: "T", outputDirectory: folder, quiet: true)
        #expect(throws: LabError.nonFiniteResult(what: "claim faster: measured value", value: .infinity)) {
            try report.claim(Claim(id: "faster", statement: "s", measured: .infinity, .atMost(250), seeds: [0]))
        }
        #expect(throws: LabError.nonFiniteResult(what: "claim gap: precondition 'train MSE ratio'", value: -.infinity)) {
            try report.claim(Claim(id: "gap", statement: "s", measured: 1, .atMost(1.25),
                                   given: [Condition("train MSE ratio", measured: -.infinity, .atMost(0.7))], seeds: [0]))
        }
        // (NaN != NaN, so these compare the messages.)
        func refusal(_ body: () throws -> Void) -> String {
            do { try body(); return "accepted" } catch { return "\(error)" }
        }
        #expect(refusal { try report.claim(Claim(id: "tolerance", statement: "s", measured: 1, .within(1, tolerance: .nan), seeds: [0])) }
            == "claim tolerance: threshold is nan, not a finite number: the run stopped before reporting it")
        let table = Table(header: ["method", "loss"], rows: [["EOI", 0.5], ["SAO", .number(.nan)]])
        #expect(refusal { try report.table(table, name: "losses", caption: "c") }
            == "table 'losses', row 1 (SAO), column 'loss' is nan, not a finite number: the run stopped before reporting it")
        let nanCondition = Claim(id: "both", statement: "s", measured: 1, .atLeast(0),
                                 and: [Condition("baseline accuracy", measured: .nan, .atMost(0.2))], seeds: [0])
        #expect(refusal { try report.claim(nanCondition) }.hasPrefix("claim both: condition 'baseline accuracy' is nan, not a finite number"))
        // Nothing was kept: the finished report has no claim and no table.
        try report.claim(Claim(id: "finite", statement: "s", measured: 1, .atMost(2), seeds: [0]))
        try report.finish()
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("table-") }.isEmpty)
        #expect(report.claimsFile.claims.map(\.id) == ["finite"])
    }

    @Test func goldenCheckSeesMovedValuesChangedVerdictsAndMissingClaims() throws {
        let tolerance = GoldenCheck.GoldenTolerance(relative: 1e-9, threads: 2, wallClockClaims: ["p": ["speedup"]])
        func file(_ claims: [Claim]) -> ClaimsFile {
            ClaimsFile(paper: "arXiv:1", title: "T", scale: .smoke, seed: 0, seeds: nil, command: nil, claims: claims)
        }
        let golden = file([
            Claim(id: "accuracy", statement: "s", measured: 0.75, .atLeast(0.5),
                  given: [Condition("beats chance", measured: 0.3, .atLeast(0.1))], seeds: [0]),
            Claim(id: "orthogonal", statement: "s", measured: 1e-7, .atMost(1e-5), seeds: [0]),
            Claim(id: "speedup", statement: "s", measured: 38, .atLeast(10), seeds: [0]),
        ])
        #expect(GoldenCheck.differences(fresh: golden, golden: golden, paper: "p", tolerance: tolerance).isEmpty)
        // Rounding in the last bits and any wall-clock value pass.
        var same = golden
        same.claims[0].measured = 0.75 * (1 + 1e-12)
        same.claims[2].measured = 5
        #expect(GoldenCheck.differences(fresh: same, golden: golden, paper: "p", tolerance: tolerance).isEmpty)
        // A moved value, a moved precondition (verdict flips to inconclusive), a missing and a new claim.
        var moved = golden
        moved.claims[0].measured = 0.76
        moved.claims[0].preconditions[0].measured = 0.05
        moved.claims.remove(at: 1)
        moved.claims.append(Claim(id: "extra", statement: "s", measured: 1, .atLeast(0), seeds: [0]))
        let lines = GoldenCheck.differences(fresh: moved, golden: golden, paper: "p", tolerance: tolerance)
        #expect(lines == [
            "claim extra is new (not in the golden file)",
            "claim accuracy: verdict inconclusive, golden holds (measured 0.76, golden 0.75)",
            "claim accuracy: measured 0.76, golden 0.75 (difference 0.01, tolerance 1e-09)",
            "claim accuracy: precondition 'beats chance' 0.05, golden 0.3 (difference -0.25, tolerance 1e-09)",
            "claim orthogonal is missing from the fresh run",
        ], "\(lines)")

        // On disk: a paper without a golden file is a notice; a smoke run of another thread count is refused.
        let root = ReportScratch.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try golden.write(to: root + "/smoke/p/claims.json")
        try AtomicFile.write("{\"threads\": 2}\n", to: root + "/smoke/p/run.json")
        #expect(try GoldenCheck.check(paper: "p", smokeDirectory: root + "/smoke", goldenDirectory: root + "/golden",
                                      tolerance: tolerance) == .noGolden)
        try GoldenCheck.update(paper: "p", smokeDirectory: root + "/smoke", goldenDirectory: root + "/golden", tolerance: tolerance)
        #expect(try GoldenCheck.check(paper: "p", smokeDirectory: root + "/smoke", goldenDirectory: root + "/golden",
                                      tolerance: tolerance) == .agrees)
        try moved.write(to: root + "/smoke/p/claims.json")
        #expect(try GoldenCheck.check(paper: "p", smokeDirectory: root + "/smoke", goldenDirectory: root + "/golden",
                                      tolerance: tolerance) == .differs(lines))
        try AtomicFile.write("{\"threads\": 16}\n", to: root + "/smoke/p/run.json")
        #expect(throws: LabError.self) {
            try GoldenCheck.check(paper: "p", smokeDirectory: root + "/smoke", goldenDirectory: root + "/golden", tolerance: tolerance)
        }
    }

    @Test func resultsTableIsRegeneratedBetweenMarkers() throws {
        let root = ReportScratch.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let figures = root + "/figures"
        let smoke = ClaimsFile(paper: "arXiv:2", title: "Beta", scale: .smoke, seed: 0, seeds: nil,
                               command: "beta --scale smoke", claims: [
                                   Claim(id: "b1", statement: "holds not", measured: 0.1, .atLeast(0.5), seeds: [0])])
        let full = ClaimsFile(paper: "arXiv:1", title: "Alpha", scale: .full, seed: 0, seeds: nil,
                              command: "alpha --scale full", claims: [
                                  Claim(id: "a1", statement: "first", measured: 3.1e-7, .atMost(1e-5), kind: .exact, seeds: [0]),
                                  Claim(id: "a2", statement: "second | piped", measured: 0.93, .atLeast(0.9), seeds: [0])])
        try smoke.write(to: figures + "/beta/claims.json")
        try full.write(to: figures + "/alpha/claims.json")
        try AtomicFile.createFolder(figures + "/gallery")
        try AtomicFile.write("not a paper", to: figures + "/gallery/line.png")
        try AtomicFile.write("""
            {"paper": "arXiv:1", "scale": "full", "wallSeconds": 150, "cpuSeconds": 290, "threads": 2,
             "peakMemoryBytes": 104857600, "cpu": "AMD EPYC", "kernels": "portable", "started": "2026-12-05T07:00:00Z"}
            """, to: figures + "/alpha/run.json")
        let readme = root + "/README.md"
        let papers = """
            <!-- papers:begin -->
            | arXiv | paper | make target | status |
            |---|---|---|---|
            | 1 | Alpha | `alpha` | typed by hand |
            | 2 | Beta | `beta` | stale |
            | 3 | Gamma | `gamma` | planned |
            <!-- papers:end -->
            """
        try AtomicFile.write("# LabBook\n\n\(papers)\n\n<!-- walltimes:begin -->\ntyped\n<!-- walltimes:end -->\n\n"
                             + "<!-- results:begin -->\nstale\n<!-- results:end -->\n\nAfter.\n", to: readme)

        let results = try ResultsTable.update(readmePath: readme, figuresDirectory: figures)
        #expect(results.map(\.folder) == ["alpha", "beta"] && results.flatMap(\.claims.claims).count == 3)
        let text = try #require(ReportScratch.text(readme))
        #expect(!text.contains("stale") && !text.contains("typed"))
        // The wall-time section comes from run.json: one row per full-scale run, and the schedule of 3 seeds.
        #expect(text.contains("| `alpha` | 2.5 | 4.8 | 2 | 100 | AMD EPYC | portable | 2026-12-05T07:00:00Z |"))
        #expect(text.contains("Expected wall time of 1 papers × 3 seeds (3 tasks) from these recorded times: 7.5 minutes"))
        #expect(text.contains("| wall time (minutes) | 7.5 | 5.0 | 2.5 | 2.5 | 2.5 | 2.5 | 2.5 |"))
        // The status column comes from claims.json and run.json; a planned paper's row stays as it is.
        #expect(text.contains("\n| 1 | Alpha | `alpha` | full scale, seed 0, 2.5 min: 2 of 2 claims hold |\n"))
        #expect(text.contains("\n| 2 | Beta | `beta` | smoke scale, seed 0: 0 of 1 claims hold, 1 fails; fails: b1 |\n"))
        #expect(text.contains("\n| 3 | Gamma | `gamma` | planned |\n"))
        #expect(text.contains("<!-- results:begin -->\n| paper | claim | measured | threshold | verdict | scale | command |"))
        #expect(text.hasSuffix("<!-- results:end -->\n\nAfter.\n"))
        let rows = text.split(separator: "\n").filter { $0.hasPrefix("| [") }
        #expect(rows.count == 3)
        #expect(rows[0].contains("a1: first") && rows[0].contains("| 3.1e-07 | <= 1e-05 | holds | full | `make alpha` |"))
        #expect(rows[1].contains("second \\| piped"))
        #expect(rows[2].contains("| **fails** | smoke | `beta --scale smoke` |"))
        #expect(text.contains("2 of 3 claims hold, 1 fails."))

        // Holds, fails and inconclusive are counted separately.
        let gamma = ClaimsFile(paper: "arXiv:3", title: "Gamma", scale: .full, seed: 0, seeds: nil, command: nil, claims: [
            Claim(id: "g1", statement: "vacuous", measured: 1, .atMost(1.25),
                  given: [Condition("beats zero", measured: 1.02, .atMost(0.7))], seeds: [0])])
        try gamma.write(to: figures + "/gamma/claims.json")
        try ResultsTable.update(readmePath: readme, figuresDirectory: figures)
        let withGamma = try #require(ReportScratch.text(readme))
        #expect(withGamma.contains("| g1: vacuous | 1; given 1.02 | <= 1.25; given <= 0.7 (beats zero) | *inconclusive* | full |"))
        #expect(withGamma.contains("2 of 4 claims hold, 1 fails, 1 inconclusive."))
        #expect(withGamma.contains("| 3 | Gamma | `gamma` | full scale, seed 0: 0 of 1 claims hold, 1 inconclusive; inconclusive: g1 |"))
        #expect(ResultsTable.statusLine(ClaimsFile(paper: "p", title: nil, scale: .full, seed: 0, seeds: [0, 1, 2], command: nil,
                                                   claims: gamma.claims), wallSeconds: 42)
            == "full scale, seed 0 (averaging seeds 0, 1, 2), 42 s: 0 of 1 claims hold, 1 inconclusive; inconclusive: g1")

        // A paper folder with results but no claims.json is an error naming the paper; the README is untouched.
        try FileManager.default.removeItem(atPath: figures + "/gamma/claims.json")
        try AtomicFile.write("# Gamma\n", to: figures + "/gamma/REPORT.md")
        #expect {
            try ResultsTable.update(readmePath: readme, figuresDirectory: figures)
        } throws: { error in
            guard case LabError.missingFile(let path, let fix) = error else { return false }
            return path.hasSuffix("gamma/claims.json") && fix.contains("'gamma'")
        }
        #expect(ReportScratch.text(readme) == withGamma)
        try FileManager.default.removeItem(atPath: figures + "/gamma")

        // A paper with results but no row in the papers table is an error naming it.
        try full.write(to: figures + "/delta/claims.json")
        #expect {
            try ResultsTable.update(readmePath: readme, figuresDirectory: figures)
        } throws: { error in
            (error as? LabError)?.description.contains("the papers table has no row with make target `delta`") == true
        }
        try FileManager.default.removeItem(atPath: figures + "/delta")

        // A paper with an aggregate over seeds (claims-seeds.json) says so in its status line.
        try alphaSeed(1, measured: 0.95).write(to: figures + "/alpha/seeds/1/claims.json")
        try alphaSeed(2, measured: 0.5).write(to: figures + "/alpha/seeds/2/claims.json")
        try SeedAggregate.write(figures: figures, paper: "alpha", seeds: [0, 1, 2])
        try ResultsTable.update(readmePath: readme, figuresDirectory: figures)
        #expect(try #require(ReportScratch.text(readme)).contains(
            "| 1 | Alpha | `alpha` | full scale, seed 0, 2.5 min: 2 of 2 claims hold; over seeds: 1 of 2 claims hold on all seeds (0, 1, 2); 1 holds on some |"))
        try FileManager.default.removeItem(atPath: figures + "/alpha/seeds")
        try FileManager.default.removeItem(atPath: figures + "/alpha/" + SeedAggregate.aggregateFileName)
        try FileManager.default.removeItem(atPath: figures + "/alpha/" + SeedAggregate.tableFileName)

        try AtomicFile.write("# no markers\n", to: readme)
        #expect(throws: LabError.self) { try ResultsTable.update(readmePath: readme, figuresDirectory: figures) }
        #expect(ReportScratch.text(readme) == "# no markers\n")
    }

    @Test func runOutputsDoNotMakeTheTreeDirtyButSourceChangesDo() throws {
        let root = ReportScratch.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        func git(_ arguments: String...) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["git", "-C", root, "-c", "user.name=t", "-c", "user.email=t@t"] + arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            try #require(process.terminationStatus == 0, "git \(arguments) failed")
        }
        try AtomicFile.write("source\n", to: root + "/main.swift")
        try AtomicFile.write("old result\n", to: root + "/figures/p/REPORT.md")
        try AtomicFile.write("# table\n", to: root + "/README.md")
        try git("init", "-q")
        try git("add", ".")
        try git("commit", "-q", "-m", "fixture")
        #expect(Provenance.gitState(directory: root).dirty == false)
        // A run rewrites its own figures and the README's tables: still clean.
        try AtomicFile.write("new result\n", to: root + "/figures/p/REPORT.md")
        try AtomicFile.write("# regenerated table\n", to: root + "/README.md")
        #expect(Provenance.gitState(directory: root).dirty == false)
        // A change to what the run is built from is dirty.
        try AtomicFile.write("edited source\n", to: root + "/main.swift")
        #expect(Provenance.gitState(directory: root).dirty == true)
    }

    /// Seed n of the fixture paper "alpha": a1 holds, a2 measured as given.
    func alphaSeed(_ seed: Int, measured: Double) -> ClaimsFile {
        ClaimsFile(paper: "arXiv:1", title: "Alpha", scale: .full, seed: seed, seeds: nil, command: nil, claims: [
            Claim(id: "a1", statement: "first", measured: 3.1e-7, .atMost(1e-5), kind: .exact, seeds: [seed]),
            Claim(id: "a2", statement: "second | piped", measured: measured, .atLeast(0.9), seeds: [seed])])
    }

    @Test func wallTimeScheduleIsLongestFirst() {
        // Longest first on 2 slots: 5 | 4, then 3 → slot 2 (7), 3 → slot 1 (8), 2 → slot 2 (9).
        #expect(WallTimeTable.makespan([3, 5, 2, 4, 3], slots: 2) == 9)
        #expect(WallTimeTable.makespan([3, 5, 2, 4, 3], slots: 1) == 17)
        #expect(WallTimeTable.makespan([3, 5, 2, 4, 3], slots: 3) == 6)
        #expect(WallTimeTable.makespan([3, 5, 2, 4, 3], slots: 30) == 5)
        #expect(WallTimeTable.markdown([]) == "No full-scale runs recorded yet: run `make reproduce-all`.\n")
    }

    @Test func numbersAreFormattedForReading() {
        #expect(formatNumber(3.1e-7) == "3.1e-07")
        #expect(formatNumber(0.93124) == "0.9312")
        #expect(formatNumber(1000) == "1000")
        #expect(formatNumber(.nan) == "NaN")
        #expect(formatDuration(0.25) == "250 ms" && formatDuration(12.34) == "12.3 s" && formatDuration(245) == "4 min 05 s")
    }
}
