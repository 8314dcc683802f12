import Foundation
import Lab

/// How a measured value is judged: against a bound, a target with a tolerance, or a closed interval.
/// A NaN measurement (or a NaN bound) never holds.
public enum Comparison: Sendable, Equatable {
    /// measured < bound
    case lessThan(Double)
    /// measured <= bound
    case atMost(Double)
    /// measured > bound
    case greaterThan(Double)
    /// measured >= bound
    case atLeast(Double)
    /// measured == value, exactly (counts, indices, bit-exact results)
    case equal(Double)
    /// |measured - target| <= tolerance
    case within(Double, tolerance: Double)
    /// lower <= measured <= upper
    case inRange(Double, Double)

    /// Whether `measured` satisfies the comparison.
    public func holds(_ measured: Double) -> Bool {
        guard !measured.isNaN else { return false }
        switch self {
        case .lessThan(let bound): return measured < bound
        case .atMost(let bound): return measured <= bound
        case .greaterThan(let bound): return measured > bound
        case .atLeast(let bound): return measured >= bound
        case .equal(let value): return measured == value
        case .within(let target, let tolerance): return abs(measured - target) <= tolerance
        case .inRange(let lower, let upper): return lower <= measured && measured <= upper
        }
    }

    /// The operator as written in claims.json: `<`, `<=`, `>`, `>=`, `==`, `within`, `in`.
    public var symbol: String {
        switch self {
        case .lessThan: return "<"
        case .atMost: return "<="
        case .greaterThan: return ">"
        case .atLeast: return ">="
        case .equal: return "=="
        case .within: return "within"
        case .inRange: return "in"
        }
    }

    /// The number the measurement is compared with: the bound, the target of `within`, or the lower end of
    /// `inRange`.
    public var threshold: Double {
        switch self {
        case .lessThan(let x), .atMost(let x), .greaterThan(let x), .atLeast(let x), .equal(let x): return x
        case .within(let target, _): return target
        case .inRange(let lower, _): return lower
        }
    }

    /// The condition for people: `<= 1e-05`, `within 0.5 ± 0.01`, `in [0.1, 0.3]`.
    public var text: String {
        switch self {
        case .within(let target, let tolerance):
            return "within \(formatNumber(target)) ± \(formatNumber(tolerance))"
        case .inRange(let lower, let upper):
            return "in [\(formatNumber(lower)), \(formatNumber(upper))]"
        default:
            return "\(symbol) \(formatNumber(threshold))"
        }
    }
}

/// One measured quantity and the comparison it must pass. Claims about two conditions ("EOI trains at
/// depth 1000 AND the orthogonal baseline does not") carry their further conditions as `Condition`s.
public struct Condition: Sendable, Equatable {
    /// What was measured, e.g. "orthogonal init, test accuracy at depth 1000".
    public var label: String
    public var measured: Double
    public var comparison: Comparison

    public init(_ label: String, measured: Double, _ comparison: Comparison) {
        self.label = label
        self.measured = measured
        self.comparison = comparison
    }

    /// Computed, never given: `comparison.holds(measured)`.
    public var holds: Bool { comparison.holds(measured) }
}

/// What a run concludes about a claim.
///
/// - `holds`: every precondition holds, and the measurement passes its comparison and every further condition.
/// - `fails`: every precondition holds, but the measurement (or a further condition) does not pass.
/// - `inconclusive`: a precondition does not hold (e.g. the models compared did not beat a trivial baseline), so
///   the measurement, though recorded, says nothing about the claim.
public enum Verdict: String, Codable, Sendable, CaseIterable {
    case holds, fails, inconclusive
}

/// A machine-checked statement of a paper, measured by this run.
///
///     Claim(id: "orthogonality", statement: "EOI weights are orthogonal at every density",
///           measured: maxDeviation, .atMost(1e-5), kind: .exact, seeds: [0])
///
///     Claim(id: "generalisation-gap", statement: "quality on unseen recordings is close to training quality",
///           measured: testL1 / trainL1, .atMost(1.25),
///           given: [Condition("MSE(NeRF)/MSE(zero) on training clips", measured: trainRatio, .atMost(0.7))],
///           seeds: [seed],
///           whenFails: "test and training L1 are \(testL1) and \(trainL1)")
///
/// The verdict is computed, never given: `inconclusive` when a precondition (`given`) does not hold, else
/// `holds` when the measured value passes its comparison and every further condition (`and`) holds, else
/// `fails`. A NaN never holds. A failing claim is a finding, not a broken run.
public struct Claim: Sendable, Equatable {
    /// `exact`: a property that must hold by construction or mathematics (orthogonality, a conservation
    /// law), up to floating-point error. `paper`: a quantitative result the paper reports (an accuracy, a
    /// gap), which a reproduction may or may not reach.
    public enum Kind: String, Codable, Sendable {
        case exact, paper
    }

    /// Stable id, as named in the paper's issue (e.g. "orthogonality").
    public var id: String
    public var statement: String
    public var measured: Double
    public var comparison: Comparison
    /// Further conditions that must hold too (two-condition claims).
    public var conditions: [Condition]
    /// What must be true for the measurement to say anything about the claim (e.g. "the model beats the zero
    /// output"); when one does not hold the verdict is `inconclusive`.
    public var preconditions: [Condition]
    public var kind: Kind
    /// The seeds the measurement was averaged over.
    public var seeds: [Int]
    /// How it was measured, what differs from the paper.
    public var note: String?
    /// Why the claim does not hold in this run, from the run's numbers: set only when the verdict is not
    /// `holds` (the `whenFails` text of the initialiser is not even computed otherwise).
    public var explanation: String?

    /// - Parameters:
    ///   - conditions: further conditions that must hold too (`and`).
    ///   - preconditions: conditions under which the measurement is meaningful (`given`); one that does not hold
    ///     makes the verdict `inconclusive`.
    ///   - note: how it was measured (always shown).
    ///   - explanation: why it does not hold, evaluated only when the verdict is `fails` or `inconclusive`.
    public init(id: String, statement: String, measured: Double, _ comparison: Comparison,
                and conditions: [Condition] = [], given preconditions: [Condition] = [], kind: Kind = .paper,
                seeds: [Int], note: String? = nil, whenFails explanation: @autoclosure () -> String? = nil) {
        self.id = id
        self.statement = statement
        self.measured = measured
        self.comparison = comparison
        self.conditions = conditions
        self.preconditions = preconditions
        self.kind = kind
        self.seeds = seeds
        self.note = note
        self.explanation = nil
        if verdict != .holds { self.explanation = explanation() }
    }

    /// `inconclusive` if a precondition does not hold; else `holds` if the measured value passes its comparison
    /// and every further condition holds; else `fails`.
    public var verdict: Verdict {
        guard preconditions.allSatisfy(\.holds) else { return .inconclusive }
        return comparison.holds(measured) && conditions.allSatisfy(\.holds) ? .holds : .fails
    }

    /// Throws `LabError.nonFiniteResult` naming the claim and the quantity when the measured value, a further
    /// condition's or a precondition's value, or a number of a comparison is NaN or infinite: NaN and Inf never
    /// reach claims.json (a value that was "not reached" is expressed by the paper's rule, e.g. the budget,
    /// and said in the note). `Report.claim` calls it.
    public func checkFinite() throws {
        func numbers(_ comparison: Comparison) -> [Double] {
            switch comparison {
            case .within(let target, let tolerance): return [target, tolerance]
            case .inRange(let lower, let upper): return [lower, upper]
            default: return [comparison.threshold]
            }
        }
        var named = [("measured value", measured)] + numbers(comparison).map { ("threshold", $0) }
        for (role, list) in [("condition", conditions), ("precondition", preconditions)] {
            for condition in list {
                named.append(("\(role) '\(condition.label)'", condition.measured))
                named += numbers(condition.comparison).map { ("threshold of \(role) '\(condition.label)'", $0) }
            }
        }
        if let (what, value) = named.first(where: { !$0.1.isFinite }) {
            throw LabError.nonFiniteResult(what: "claim \(id): \(what)", value: value)
        }
    }

    /// `verdict == .holds` (an inconclusive claim does not hold).
    public var holds: Bool { verdict == .holds }

    /// Measured value(s) for people: `0.9312`, `0.9312; 0.1020`, and the preconditions' values after `|`:
    /// `0.9312 | given 0.45`.
    public var measuredText: String {
        let values = ([formatNumber(measured)] + conditions.map { formatNumber($0.measured) }).joined(separator: "; ")
        guard !preconditions.isEmpty else { return values }
        return values + "; given " + preconditions.map { formatNumber($0.measured) }.joined(separator: "; ")
    }

    /// Condition(s) for people: `>= 0.9`, `>= 0.9; <= 0.2 (orthogonal init accuracy)`, and the preconditions
    /// after `; given`: `<= 1.25; given <= 0.7 (MSE ratio, train)`.
    public var conditionText: String {
        let text = ([comparison.text] + conditions.map { "\($0.comparison.text) (\($0.label))" }).joined(separator: "; ")
        guard !preconditions.isEmpty else { return text }
        return text + "; given " + preconditions.map { "\($0.comparison.text) (\($0.label))" }.joined(separator: "; ")
    }

    /// The verdict in a table cell: `holds`, `**fails**`, `*inconclusive*`.
    public var verdictMarkdown: String {
        switch verdict {
        case .holds: return "holds"
        case .fails: return "**fails**"
        case .inconclusive: return "*inconclusive*"
        }
    }
}

/// "3 of 5 claims hold, 1 fails, 1 inconclusive" (the counts that are not 0 after the first).
public func verdictSummary(_ claims: [Claim]) -> String {
    let count = { (verdict: Verdict) in claims.filter { $0.verdict == verdict }.count }
    var text = "\(count(.holds)) of \(claims.count) claims hold"
    if count(.fails) > 0 { text += ", \(count(.fails)) fail\(count(.fails) == 1 ? "s" : "")" }
    if count(.inconclusive) > 0 { text += ", \(count(.inconclusive)) inconclusive" }
    return text
}

// MARK: - claims.json encoding

/// Keys of one claim in claims.json. `comparison` + `threshold` (+ `tolerance` for `within`, `upper` for
/// `in`) encode the comparison; `condition` is its text; `verdict` and `holds` (= verdict is "holds", kept for
/// older readers) are written for readers and checked on reading; further conditions go under `and`,
/// preconditions under `given`, the failure explanation under `explanation`.
private enum ClaimKey: String, CodingKey {
    case id, statement, measured, comparison, threshold, tolerance, upper, condition, holds, verdict, kind, seeds, note
    case and, given, label, explanation
}

extension Comparison {
    fileprivate func encode(into container: inout KeyedEncodingContainer<ClaimKey>) throws {
        try container.encode(symbol, forKey: .comparison)
        try container.encode(threshold, forKey: .threshold)
        switch self {
        case .within(_, let tolerance): try container.encode(tolerance, forKey: .tolerance)
        case .inRange(_, let upper): try container.encode(upper, forKey: .upper)
        default: break
        }
        try container.encode(text, forKey: .condition)
    }

    fileprivate init(from container: KeyedDecodingContainer<ClaimKey>) throws {
        let symbol = try container.decode(String.self, forKey: .comparison)
        let threshold = try container.decode(Double.self, forKey: .threshold)
        switch symbol {
        case "<": self = .lessThan(threshold)
        case "<=": self = .atMost(threshold)
        case ">": self = .greaterThan(threshold)
        case ">=": self = .atLeast(threshold)
        case "==": self = .equal(threshold)
        case "within": self = .within(threshold, tolerance: try container.decode(Double.self, forKey: .tolerance))
        case "in": self = .inRange(threshold, try container.decode(Double.self, forKey: .upper))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .comparison, in: container,
                debugDescription: "unknown comparison '\(symbol)': expected <, <=, >, >=, ==, within or in")
        }
    }
}

/// Checks that a stored `holds` agrees with the one computed from the measurement: a hand-edited verdict
/// is rejected.
private func checkStoredHolds(_ container: KeyedDecodingContainer<ClaimKey>, computed: Bool) throws {
    guard let stored = try container.decodeIfPresent(Bool.self, forKey: .holds) else { return }
    guard stored == computed else {
        throw DecodingError.dataCorruptedError(
            forKey: .holds, in: container,
            debugDescription: "holds is \(stored) but the measurement and comparison give \(computed)")
    }
}

/// Checks that a stored `verdict` agrees with the computed one (files written before verdicts have none).
private func checkStoredVerdict(_ container: KeyedDecodingContainer<ClaimKey>, computed: Verdict) throws {
    guard let stored = try container.decodeIfPresent(String.self, forKey: .verdict) else { return }
    guard stored == computed.rawValue else {
        throw DecodingError.dataCorruptedError(
            forKey: .verdict, in: container,
            debugDescription: "verdict is '\(stored)' but the measurements and comparisons give '\(computed.rawValue)'")
    }
}

extension Condition: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: ClaimKey.self)
        self.init(try container.decode(String.self, forKey: .label),
                  measured: try container.decode(Double.self, forKey: .measured),
                  try Comparison(from: container))
        try checkStoredHolds(container, computed: holds)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: ClaimKey.self)
        try container.encode(label, forKey: .label)
        try container.encode(measured, forKey: .measured)
        try comparison.encode(into: &container)
        try container.encode(holds, forKey: .holds)
    }
}

extension Claim: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: ClaimKey.self)
        self.init(id: try container.decode(String.self, forKey: .id),
                  statement: try container.decode(String.self, forKey: .statement),
                  measured: try container.decode(Double.self, forKey: .measured),
                  try Comparison(from: container),
                  and: try container.decodeIfPresent([Condition].self, forKey: .and) ?? [],
                  given: try container.decodeIfPresent([Condition].self, forKey: .given) ?? [],
                  kind: try container.decodeIfPresent(Kind.self, forKey: .kind) ?? .paper,
                  seeds: try container.decodeIfPresent([Int].self, forKey: .seeds) ?? [],
                  note: try container.decodeIfPresent(String.self, forKey: .note))
        explanation = try container.decodeIfPresent(String.self, forKey: .explanation)
        try checkStoredVerdict(container, computed: verdict)
        try checkStoredHolds(container, computed: holds)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: ClaimKey.self)
        try container.encode(id, forKey: .id)
        try container.encode(statement, forKey: .statement)
        try container.encode(measured, forKey: .measured)
        try comparison.encode(into: &container)
        try container.encode(verdict, forKey: .verdict)
        try container.encode(holds, forKey: .holds)
        try container.encode(kind, forKey: .kind)
        try container.encode(seeds, forKey: .seeds)
        if !conditions.isEmpty { try container.encode(conditions, forKey: .and) }
        if !preconditions.isEmpty { try container.encode(preconditions, forKey: .given) }
        try container.encodeIfPresent(note, forKey: .note)
        try container.encodeIfPresent(explanation, forKey: .explanation)
    }
}
