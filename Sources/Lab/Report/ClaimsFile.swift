import Foundation
import Lab

/// How big a run is: `smoke` checks that everything runs (well under a minute, numbers not meaningful);
/// `full` reproduces the paper's figures (minutes).
public enum Scale: String, Codable, Sendable, CaseIterable {
    case smoke, full
}

/// The schema of `claims.json` (DESIGN.md section 3):
///
///     {"paper": "arXiv:2406.01755", "title": "...", "scale": "full", "seed": 0, "seeds": [0, 1, 2],
///      "command": ".build/release/exact-orthogonal-init --scale full --out figures/exact-orthogonal-init",
///      "claims": [{"id": "orthogonality", "statement": "...", "measured": 3.1e-7, "comparison": "<=",
///                  "threshold": 1e-5, "condition": "<= 1e-05", "holds": true, "kind": "exact", "seeds": [0]}]}
///
/// A measurement that is NaN or infinite is written as the string "nan", "inf" or "-inf" (JSON has no such
/// numbers); `LabJSON.decoder` reads them back.
public struct ClaimsFile: Codable, Sendable, Equatable {
    /// "arXiv:<id>"
    public var paper: String
    public var title: String?
    public var scale: Scale
    /// The run's base seed (`--seed`).
    public var seed: Int
    /// Every seed the run used, where it averaged over several.
    public var seeds: [Int]?
    /// The command line that produced the file.
    public var command: String?
    public var claims: [Claim]

    public init(paper: String, title: String?, scale: Scale, seed: Int, seeds: [Int]?, command: String?,
                claims: [Claim]) {
        self.paper = paper
        self.title = title
        self.scale = scale
        self.seed = seed
        self.seeds = seeds
        self.command = command
        self.claims = claims
    }

    /// Reads and checks a claims.json (each stored `holds` must agree with its measurement).
    public static func read(path: String) throws -> ClaimsFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LabError.missingFile(path: path, fix: "run the paper's executable (make <paper>) to write it")
        }
        do {
            return try LabJSON.decoder.decode(ClaimsFile.self, from: data)
        } catch {
            throw LabError.corruptFile(path: path, reason: "not a claims.json: \(describeDecodingError(error))")
        }
    }

    /// Writes the file atomically.
    public func write(to path: String) throws {
        try AtomicFile.write(try LabJSON.encoder.encode(self) + Data("\n".utf8), to: path)
    }
}

/// The JSON conventions of Lab's output files (claims.json, run.json).
public enum LabJSON {
    /// Pretty-printed, keys sorted (stable diffs of committed results), non-finite numbers as strings.
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    /// Reads what `encoder` writes.
    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }
}

/// A decoding error as one line: what was wrong and at which key path.
func describeDecodingError(_ error: Error) -> String {
    guard let decodingError = error as? DecodingError else { return "\(error)" }
    func at(_ path: [CodingKey]) -> String {
        path.isEmpty ? "" : " at " + path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
    switch decodingError {
    case .dataCorrupted(let context): return context.debugDescription + at(context.codingPath)
    case .keyNotFound(let key, let context): return "missing key '\(key.stringValue)'" + at(context.codingPath)
    case .typeMismatch(let type, let context):
        return "expected \(type)" + at(context.codingPath) + ": " + context.debugDescription
    case .valueNotFound(let type, let context): return "missing \(type) value" + at(context.codingPath)
    @unknown default: return "\(error)"
    }
}

/// Numbers for people: 4 significant digits (`0.9312`, `3.1e-07`, `1.235e+04`), `NaN`, `inf`.
public func formatNumber(_ x: Double) -> String {
    if x.isNaN { return "NaN" }
    if x.isInfinite { return x > 0 ? "inf" : "-inf" }
    if x == x.rounded(), abs(x) < 1e6 { return String(Int(x)) }
    return String(format: "%.4g", x)
}
