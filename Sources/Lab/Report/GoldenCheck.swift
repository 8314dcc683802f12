import Foundation
import Lab

/// The golden smoke check (`make golden`, part of `make test`): each paper's fresh smoke-scale seed-0
/// `claims.json` is compared with the one committed under `Tests/Golden/<paper>/claims.json`, so a change that
/// moves a number is seen. `make golden-update` rewrites the committed files deliberately.
///
/// Two runs of one commit give the same numbers when they use the same thread count (Lab's loops split work
/// by thread count, and the portable kernels make every x86-64 CPU with AVX2 compute the same bits), so the
/// smoke runs use a fixed `--threads` (the Makefile's `SMOKE_THREADS`, recorded in `GoldenTolerance.threads`)
/// and every value is compared within `relative`·max(1, |golden|) (rounding in the last bits only). A
/// wall-clock measurement (a speed-up, milliseconds per event) differs on every machine: its claim is compared
/// by presence alone.
public enum GoldenCheck {
    /// How close a fresh value must be, and which claims measure wall-clock time (`Tests/Golden/tolerance.json`).
    public struct GoldenTolerance: Codable, Sendable, Equatable {
        /// |fresh − golden| ≤ relative · max(1, |golden|).
        public var relative: Double
        /// The `--threads` of the smoke runs the golden files come from.
        public var threads: Int
        /// Per paper, the ids of claims whose values are wall-clock measurements.
        public var wallClockClaims: [String: [String]]

        public init(relative: Double, threads: Int, wallClockClaims: [String: [String]]) {
            self.relative = relative
            self.threads = threads
            self.wallClockClaims = wallClockClaims
        }

        public static func read(path: String) throws -> GoldenTolerance {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw LabError.missingFile(path: path, fix: "restore Tests/Golden/tolerance.json from git")
            }
            do { return try LabJSON.decoder.decode(GoldenTolerance.self, from: data) } catch {
                throw LabError.corruptFile(path: path, reason: "not a golden tolerance file: \(describeDecodingError(error))")
            }
        }
    }

    /// Every difference between a fresh claims file and its golden one, one line each (empty: they agree):
    /// a claim missing on either side, another verdict, or a value (measured, further condition, precondition)
    /// outside the tolerance.
    public static func differences(fresh: ClaimsFile, golden: ClaimsFile, paper: String,
                                   tolerance: GoldenTolerance) -> [String] {
        var lines: [String] = []
        if fresh.scale != golden.scale || fresh.seed != golden.seed {
            lines.append("the fresh run is \(fresh.scale.rawValue) seed \(fresh.seed), the golden one \(golden.scale.rawValue) seed \(golden.seed)")
        }
        let freshByID = Dictionary(fresh.claims.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let goldenIDs = Set(golden.claims.map(\.id))
        for claim in fresh.claims where !goldenIDs.contains(claim.id) {
            lines.append("claim \(claim.id) is new (not in the golden file)")
        }
        let wallClock = Set(tolerance.wallClockClaims[paper] ?? [])
        for expected in golden.claims {
            guard let got = freshByID[expected.id] else {
                lines.append("claim \(expected.id) is missing from the fresh run")
                continue
            }
            if wallClock.contains(expected.id) { continue }
            if got.verdict != expected.verdict {
                lines.append("claim \(expected.id): verdict \(got.verdict.rawValue), golden \(expected.verdict.rawValue) (measured \(formatNumber(got.measured)), golden \(formatNumber(expected.measured)))")
            }
            let pairs = [("measured", got.measured, expected.measured)]
                + zip(got.conditions, expected.conditions).map { ("condition '\($1.label)'", $0.measured, $1.measured) }
                + zip(got.preconditions, expected.preconditions).map { ("precondition '\($1.label)'", $0.measured, $1.measured) }
            if got.conditions.count != expected.conditions.count || got.preconditions.count != expected.preconditions.count {
                lines.append("claim \(expected.id): \(got.conditions.count) conditions and \(got.preconditions.count) preconditions, golden \(expected.conditions.count) and \(expected.preconditions.count)")
            }
            for (what, value, reference) in pairs where !(abs(value - reference) <= tolerance.relative * max(1, abs(reference))) {
                lines.append("claim \(expected.id): \(what) \(value), golden \(reference) (difference \(formatNumber(value - reference)), tolerance \(formatNumber(tolerance.relative * max(1, abs(reference)))))")
            }
        }
        return lines
    }

    /// What the check found for one paper.
    public enum Outcome: Equatable, Sendable {
        case agrees
        /// No golden file yet (a new paper): a notice, not a failure.
        case noGolden
        case differs([String])
    }

    /// Compares `<smokeDirectory>/<paper>/claims.json` with `<goldenDirectory>/<paper>/claims.json`. The fresh
    /// run must exist (throws naming it) and must have used `tolerance.threads` threads (its run.json).
    public static func check(paper: String, smokeDirectory: String, goldenDirectory: String,
                             tolerance: GoldenTolerance) throws -> Outcome {
        let freshFolder = (smokeDirectory as NSString).appendingPathComponent(paper)
        let fresh = try ClaimsFile.read(path: (freshFolder as NSString).appendingPathComponent("claims.json"))
        try checkThreads(runJSON: (freshFolder as NSString).appendingPathComponent("run.json"), expected: tolerance.threads)
        let goldenPath = ((goldenDirectory as NSString).appendingPathComponent(paper) as NSString).appendingPathComponent("claims.json")
        guard FileManager.default.fileExists(atPath: goldenPath) else { return .noGolden }
        let lines = differences(fresh: fresh, golden: try ClaimsFile.read(path: goldenPath), paper: paper, tolerance: tolerance)
        return lines.isEmpty ? .agrees : .differs(lines)
    }

    /// Copies the fresh smoke claims.json of `paper` over its golden file (after checking the thread count).
    public static func update(paper: String, smokeDirectory: String, goldenDirectory: String,
                              tolerance: GoldenTolerance) throws {
        let freshFolder = (smokeDirectory as NSString).appendingPathComponent(paper)
        let fresh = try ClaimsFile.read(path: (freshFolder as NSString).appendingPathComponent("claims.json"))
        guard fresh.scale == .smoke, fresh.seed == 0 else {
            throw LabError.invalidArgument("\(freshFolder)/claims.json is \(fresh.scale.rawValue) seed \(fresh.seed); golden files are smoke seed 0")
        }
        try checkThreads(runJSON: (freshFolder as NSString).appendingPathComponent("run.json"), expected: tolerance.threads)
        let folder = (goldenDirectory as NSString).appendingPathComponent(paper)
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw LabError.io(path: folder, reason: "cannot create it: \(error.localizedDescription)")
        }
        try fresh.write(to: (folder as NSString).appendingPathComponent("claims.json"))
    }

    private struct Threads: Decodable { var threads: Int }

    private static func checkThreads(runJSON path: String, expected: Int) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LabError.missingFile(path: path, fix: "run `make smoke` first")
        }
        let threads: Int
        do { threads = try JSONDecoder().decode(Threads.self, from: data).threads } catch {
            throw LabError.corruptFile(path: path, reason: "no thread count: \(describeDecodingError(error))")
        }
        guard threads == expected else {
            throw LabError.invalidArgument("\(path): the smoke run used \(threads) threads but the golden files were made with \(expected) (run `make smoke`, which passes --threads \(expected))")
        }
    }
}
