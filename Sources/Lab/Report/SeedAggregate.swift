import Foundation
import Lab

/// What one seed's run says about one claim: the run's verdict, or `missing` when the seed has no readable
/// claims.json (a failed or unfinished run) or its file does not name the claim.
public enum SeedOutcome: String, Codable, Sendable, CaseIterable {
    case holds, fails, inconclusive, missing
}

/// One claim as read from one seed's claims.json. Files written before verdicts existed carry only `holds`
/// (read as `holds` / `fails`); newer ones carry `verdict` (`holds` / `fails` / `inconclusive`), which wins.
public struct SeedClaim: Sendable, Equatable, Decodable {
    public var id: String
    public var statement: String
    /// The condition for people (`>= 0.9`), when the file has one.
    public var condition: String?
    public var measured: Double
    public var outcome: SeedOutcome

    public init(id: String, statement: String, condition: String?, measured: Double, outcome: SeedOutcome) {
        self.id = id
        self.statement = statement
        self.condition = condition
        self.measured = measured
        self.outcome = outcome
    }

    private enum Key: String, CodingKey { case id, statement, condition, measured, verdict, holds }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        id = try container.decode(String.self, forKey: .id)
        statement = try container.decode(String.self, forKey: .statement)
        condition = try container.decodeIfPresent(String.self, forKey: .condition)
        measured = try container.decode(Double.self, forKey: .measured)
        if let verdict = try container.decodeIfPresent(String.self, forKey: .verdict) {
            guard let outcome = SeedOutcome(rawValue: verdict), outcome != .missing else {
                throw DecodingError.dataCorruptedError(
                    forKey: .verdict, in: container,
                    debugDescription: "verdict '\(verdict)' is none of holds, fails, inconclusive")
            }
            self.outcome = outcome
        } else if let holds = try container.decodeIfPresent(Bool.self, forKey: .holds) {
            outcome = holds ? .holds : .fails
        } else {
            throw DecodingError.keyNotFound(Key.verdict, .init(codingPath: container.codingPath,
                                                               debugDescription: "neither 'verdict' nor 'holds'"))
        }
    }
}

/// One seed's claims.json, reduced to what the aggregate needs.
public struct SeedClaimsFile: Sendable, Equatable, Decodable {
    /// "arXiv:<id>"
    public var paper: String
    public var title: String?
    public var scale: String
    public var seed: Int
    public var claims: [SeedClaim]

    public init(paper: String, title: String?, scale: String, seed: Int, claims: [SeedClaim]) {
        self.paper = paper
        self.title = title
        self.scale = scale
        self.seed = seed
        self.claims = claims
    }
}

/// A seed whose run left no usable claims.json: where it was looked for and why it was not usable.
public struct MissingSeed: Error, Sendable, Equatable, Codable {
    public var seed: Int
    public var path: String
    public var reason: String

    public init(seed: Int, path: String, reason: String) {
        self.seed = seed
        self.path = path
        self.reason = reason
    }
}

/// One claim over every requested seed: each seed's outcome and measurement, on how many seeds it holds,
/// and the mean ± sample standard deviation of the finite measurements.
public struct ClaimAcrossSeeds: Sendable, Equatable, Codable {
    public struct PerSeed: Sendable, Equatable, Codable {
        public var seed: Int
        public var verdict: SeedOutcome
        /// nil when the seed is missing.
        public var measured: Double?
    }

    public var id: String
    public var statement: String
    public var condition: String?
    public var perSeed: [PerSeed]
    /// Seeds on which the verdict is `holds` (k of `seedCount`).
    public var holdsOn: Int
    /// Every requested seed, missing ones included: a seed that did not run does not count as holding.
    public var seedCount: Int
    /// Mean and sample standard deviation over the finite measurements (nil when there is none).
    public var mean: Double?
    public var standardDeviation: Double?
    /// How many finite measurements `mean` and `standardDeviation` are over.
    public var measuredCount: Int

    /// `holds` on every requested seed.
    public var holdsOnAllSeeds: Bool { holdsOn == seedCount }
}

/// The aggregate of one paper over several seeds: `figures/<paper>/claims-seeds.json`.
public struct PaperSeeds: Sendable, Equatable, Codable {
    /// The folder under figures/ (= make target = executable).
    public var folder: String
    /// "arXiv:<id>" and title as the first readable seed recorded them.
    public var paper: String?
    public var title: String?
    /// The scales the readable seeds ran at ("full", or "smoke"; two when they were mixed).
    public var scales: [String]
    public var seeds: [Int]
    public var missing: [MissingSeed]
    public var claims: [ClaimAcrossSeeds]
}

/// Aggregates a paper's claims over seeds (`lab-seeds`, `make <paper> SEEDS="0 1 2"`): seed 0's run lives in
/// `figures/<paper>/`, seed n's in `figures/<paper>/seeds/<n>/`; the aggregate is written next to seed 0 as
/// `claims-seeds.json` and `table-seeds.md`, appended to its REPORT.md, and gathered into the README between
/// `<!-- seeds:begin -->` and `<!-- seeds:end -->`.
public enum SeedAggregate {
    public static let beginMarker = "<!-- seeds:begin -->"
    public static let endMarker = "<!-- seeds:end -->"
    public static let aggregateFileName = "claims-seeds.json"
    public static let tableFileName = "table-seeds.md"

    /// The output folder of one seed's run: `<figures>/<paper>` for seed 0, `<figures>/<paper>/seeds/<seed>` else.
    public static func seedFolder(figures: String, paper: String, seed: Int) -> String {
        seed == 0 ? "\(figures)/\(paper)" : "\(figures)/\(paper)/seeds/\(seed)"
    }

    /// Mean and sample standard deviation, sqrt(sum (x_i - mean)^2 / (n - 1)), of the finite values
    /// (0 for a single value); nil when no value is finite.
    public static func meanAndStandardDeviation(_ values: [Double]) -> (mean: Double, standardDeviation: Double)? {
        let finite = values.filter(\.isFinite)
        guard !finite.isEmpty else { return nil }
        let mean = finite.reduce(0, +) / Double(finite.count)
        guard finite.count > 1 else { return (mean, 0) }
        let squares = finite.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return (mean, (squares / Double(finite.count - 1)).squareRoot())
    }

    /// Reads one seed's claims.json; a missing, unreadable or mislabelled file becomes a `MissingSeed`.
    public static func readSeed(figures: String, paper: String, seed: Int) -> Result<SeedClaimsFile, MissingSeed> {
        let path = seedFolder(figures: figures, paper: paper, seed: seed) + "/claims.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(MissingSeed(seed: seed, path: path, reason: "no claims.json (the run failed or did not finish)"))
        }
        let file: SeedClaimsFile
        do {
            file = try LabJSON.decoder.decode(SeedClaimsFile.self, from: data)
        } catch {
            return .failure(MissingSeed(seed: seed, path: path, reason: "not a claims.json: \(describeDecodingError(error))"))
        }
        guard file.seed == seed else {
            return .failure(MissingSeed(seed: seed, path: path, reason: "the file records seed \(file.seed), not \(seed)"))
        }
        return .success(file)
    }

    /// The aggregate of `runs` (one per requested seed, in the order given): claims in the order of their first
    /// appearance; a claim a readable seed does not name counts as `missing` there.
    public static func aggregate(folder: String, runs: [(seed: Int, result: Result<SeedClaimsFile, MissingSeed>)]) -> PaperSeeds {
        var files: [Int: SeedClaimsFile] = [:]
        var missing: [MissingSeed] = []
        for run in runs {
            switch run.result {
            case .success(let file): files[run.seed] = file
            case .failure(let reason): missing.append(reason)
            }
        }
        let readable = runs.compactMap { files[$0.seed] }
        var firstSeen: [SeedClaim] = []
        for claim in readable.flatMap(\.claims) where !firstSeen.contains(where: { $0.id == claim.id }) {
            firstSeen.append(claim)
        }
        let claims = firstSeen.map { first -> ClaimAcrossSeeds in
            let perSeed = runs.map { run -> ClaimAcrossSeeds.PerSeed in
                guard let claim = files[run.seed]?.claims.first(where: { $0.id == first.id }) else {
                    return .init(seed: run.seed, verdict: .missing, measured: nil)
                }
                return .init(seed: run.seed, verdict: claim.outcome, measured: claim.measured)
            }
            let values = perSeed.compactMap(\.measured)
            let statistics = meanAndStandardDeviation(values)
            return ClaimAcrossSeeds(id: first.id, statement: first.statement, condition: first.condition, perSeed: perSeed,
                                    holdsOn: perSeed.filter { $0.verdict == .holds }.count, seedCount: runs.count,
                                    mean: statistics?.mean, standardDeviation: statistics?.standardDeviation,
                                    measuredCount: values.filter(\.isFinite).count)
        }
        var scales: [String] = []
        for file in readable where !scales.contains(file.scale) { scales.append(file.scale) }
        return PaperSeeds(folder: folder, paper: readable.first?.paper, title: readable.first?.title, scales: scales,
                          seeds: runs.map(\.seed), missing: missing, claims: claims)
    }

    /// Reads every requested seed of `paper` under `figures` and aggregates them.
    public static func collect(figures: String, paper: String, seeds: [Int]) -> PaperSeeds {
        aggregate(folder: paper, runs: seeds.map { (seed: $0, result: readSeed(figures: figures, paper: paper, seed: $0)) })
    }

    /// "12 of 14 claims hold on all seeds (0, 1, 2); 1 holds on some; seed 2 missing".
    public static func statusLine(_ paper: PaperSeeds) -> String {
        let all = paper.claims.filter(\.holdsOnAllSeeds).count
        let some = paper.claims.filter { $0.holdsOn > 0 && !$0.holdsOnAllSeeds }.count
        var line = "\(all) of \(paper.claims.count) claims hold on all seeds (\(paper.seeds.map(String.init).joined(separator: ", ")))"
        if some > 0 { line += "; \(some) hold\(some == 1 ? "s" : "") on some" }
        if !paper.missing.isEmpty {
            line += "; seed\(paper.missing.count == 1 ? "" : "s") \(paper.missing.map { String($0.seed) }.joined(separator: ", ")) missing"
        }
        if paper.scales != ["full"] { line += " (scale: \(paper.scales.joined(separator: " and ")))" }
        return line
    }

    /// The Markdown table: one row per claim with each seed's verdict, k of n, and mean ± sd of the measured
    /// value; then the status line and the missing seeds with their reasons.
    public static func markdown(_ paper: PaperSeeds) -> String {
        let cell = { (verdict: SeedOutcome) -> String in
            switch verdict {
            case .holds: return "holds"
            case .fails: return "**fails**"
            case .inconclusive: return "*inconclusive*"
            case .missing: return "missing"
            }
        }
        var out = "| claim | condition | " + paper.seeds.map { "seed \($0)" }.joined(separator: " | ")
            + " | holds on | measured (mean ± sd) |\n"
        out += "|---|---|" + paper.seeds.map { _ in "---|" }.joined() + "---|---:|\n"
        for claim in paper.claims {
            let measured: String
            if let mean = claim.mean, let deviation = claim.standardDeviation {
                measured = "\(formatNumber(mean)) ± \(formatNumber(deviation))"
                    + (claim.measuredCount < claim.seedCount ? " (\(claim.measuredCount) seeds)" : "")
            } else {
                measured = "—"
            }
            let cells = ["\(claim.id): \(claim.statement)", claim.condition ?? ""] + claim.perSeed.map { cell($0.verdict) }
                + ["\(claim.holdsOn) of \(claim.seedCount)", measured]
            out += "| " + cells.map(escapeMarkdownCell).joined(separator: " | ") + " |\n"
        }
        out += "\n\(statusLine(paper)).\n"
        for seed in paper.missing {
            out += "\nSeed \(seed.seed) missing: \(seed.path): \(seed.reason).\n"
        }
        return out
    }

    /// The README section: for every paper, its status line and table, generated from the aggregates.
    public static func readmeSection(_ papers: [PaperSeeds], linkPrefix: String) -> String {
        guard !papers.isEmpty else { return "No multi-seed results yet: run `make reproduce-all SEEDS=\"0 1 2\"`.\n" }
        return papers.map { paper in
            let name = paper.title.map { "\($0) (`\(paper.folder)`)" } ?? "`\(paper.folder)`"
            return "### \(name)\n\n[\(tableFileName)](\(linkPrefix)/\(paper.folder)/\(tableFileName)): "
                + statusLine(paper) + ".\n\n" + markdown(paper)
        }.joined(separator: "\n")
    }

    /// `text` with what stands between the markers replaced by `block`; when `appendIfAbsent` and the markers
    /// are absent, the block (with its markers) is appended.
    static func replacingBlock(in text: String, with block: String, path: String, appendIfAbsent: Bool) throws -> String {
        guard let begin = text.range(of: beginMarker), let end = text.range(of: endMarker),
              begin.upperBound <= end.lowerBound else {
            guard appendIfAbsent else {
                throw LabError.corruptFile(
                    path: path, reason: "no '\(beginMarker)' followed by '\(endMarker)': put the two markers where the seeds tables go")
            }
            return text + "\n## Seeds\n\n" + beginMarker + "\n" + block + endMarker + "\n"
        }
        return String(text[..<begin.upperBound]) + "\n" + block + String(text[end.lowerBound...])
    }

    /// Writes `claims-seeds.json` and `table-seeds.md` into seed 0's folder and puts the table into its REPORT.md
    /// (when there is one). Returns the aggregate.
    @discardableResult
    public static func write(figures: String, paper: String, seeds: [Int]) throws -> PaperSeeds {
        let aggregate = collect(figures: figures, paper: paper, seeds: seeds)
        let folder = "\(figures)/\(paper)"
        try AtomicFile.createFolder(folder)
        try AtomicFile.write(try LabJSON.encoder.encode(aggregate) + Data("\n".utf8), to: "\(folder)/\(aggregateFileName)")
        let table = markdown(aggregate)
        try AtomicFile.write("# \(paper): claims over seeds\n\nGenerated by `lab-seeds` from each seed's claims.json.\n\n"
                             + table, to: "\(folder)/\(tableFileName)")
        let reportPath = "\(folder)/REPORT.md"
        if let data = FileManager.default.contents(atPath: reportPath) {
            let report = String(decoding: data, as: UTF8.self)
            let updated = try replacingBlock(in: report, with: table, path: reportPath, appendIfAbsent: true)
            if updated != report { try AtomicFile.write(updated, to: reportPath) }
        }
        return aggregate
    }

    /// Regenerates the README's seeds section from every `<figures>/*/claims-seeds.json`; returns how many papers.
    @discardableResult
    public static func updateReadme(readmePath: String, figures: String) throws -> Int {
        guard let data = FileManager.default.contents(atPath: readmePath) else {
            throw LabError.missingFile(path: readmePath, fix: "run lab-seeds from the repository root, or pass --readme")
        }
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: figures).sorted()) ?? []
        let papers = try folders.compactMap { folder -> PaperSeeds? in
            let path = "\(figures)/\(folder)/\(aggregateFileName)"
            guard let data = FileManager.default.contents(atPath: path) else { return nil }
            do {
                return try LabJSON.decoder.decode(PaperSeeds.self, from: data)
            } catch {
                throw LabError.corruptFile(path: path, reason: "not a \(aggregateFileName): \(describeDecodingError(error))")
            }
        }
        let readme = String(decoding: data, as: UTF8.self)
        let updated = try replacingBlock(in: readme, with: readmeSection(papers, linkPrefix: figures),
                                         path: readmePath, appendIfAbsent: false)
        if updated != readme { try AtomicFile.write(updated, to: readmePath) }
        return papers.count
    }
}
