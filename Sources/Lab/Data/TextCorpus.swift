import Foundation
import Lab

/// A symbol table for character- or byte-level language models.
///
/// `.characters(of:)` has one id per distinct Unicode scalar of a text, sorted by code point, then the
/// special symbols (e.g. "[MASK]" for masked diffusion); `.bytes` has ids 0-255 for the UTF-8 bytes.
public struct Vocabulary: Sendable, Equatable {
    /// symbols[id]: a one-scalar string, a special like "[MASK]", or (bytes) the byte as "<0xNN>".
    public let symbols: [String]
    /// Whether ids are UTF-8 bytes.
    public let isBytes: Bool
    private let idOfScalar: [UInt32: Int]

    public var count: Int { symbols.count }

    /// Ids 0-255 for the 256 byte values; text is encoded as its UTF-8 bytes.
    public static let bytes = Vocabulary(
        symbols: (0..<256).map { "<0x\(String($0, radix: 16, uppercase: true))>" }, isBytes: true, idOfScalar: [:])

    /// The distinct scalars of `text` in code-point order, then `specials` (ids count..<count+specials.count).
    public static func characters(of text: String, specials: [String] = []) -> Vocabulary {
        var latin1 = [Bool](repeating: false, count: 256), others = Set<UInt32>()
        for scalar in text.unicodeScalars {
            if scalar.value < 256 { latin1[Int(scalar.value)] = true } else { others.insert(scalar.value) }
        }
        let scalars = (0..<256).filter { latin1[$0] }.map(UInt32.init) + others.sorted()
        var idOfScalar: [UInt32: Int] = [:]
        for (id, scalar) in scalars.enumerated() { idOfScalar[scalar] = id }
        return Vocabulary(symbols: scalars.map { String(Unicode.Scalar($0)!) } + specials, isBytes: false,
                          idOfScalar: idOfScalar)
    }

    private init(symbols: [String], isBytes: Bool, idOfScalar: [UInt32: Int]) {
        self.symbols = symbols
        self.isBytes = isBytes
        self.idOfScalar = idOfScalar
    }

    /// The id of a special symbol or single character, or nil.
    public func id(of symbol: String) -> Int? { symbols.firstIndex(of: symbol) }

    /// Token ids of `text`. A character outside a character vocabulary is an `invalidArgument` error naming it.
    public func encode(_ text: String) throws -> [Int] {
        if isBytes { return text.utf8.map(Int.init) }
        // A table for the first 256 code points (all of KJV) spares a hash lookup per character.
        var latin1 = [Int](repeating: -1, count: 256)
        for (scalar, id) in idOfScalar where scalar < 256 { latin1[Int(scalar)] = id }
        var ids: [Int] = []
        ids.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if scalar.value < 256, latin1[Int(scalar.value)] >= 0 {
                ids.append(latin1[Int(scalar.value)])
                continue
            }
            guard let id = idOfScalar[scalar.value] else {
                throw LabError.invalidArgument(
                    "Vocabulary.encode: character \(scalar.debugDescription) (U+\(String(scalar.value, radix: 16, uppercase: true))) is not in the vocabulary")
            }
            ids.append(id)
        }
        return ids
    }

    /// The text of `ids` (special symbols written as themselves; invalid UTF-8 bytes as U+FFFD).
    public func decode(_ ids: [Int]) -> String {
        if isBytes { return String(decoding: ids.map { UInt8(truncatingIfNeeded: $0) }, as: UTF8.self) }
        return ids.map { symbols[$0] }.joined()
    }
}

/// A text encoded with a vocabulary, for language-model training and evaluation.
///
///     let kjv = try TextCorpus.load("data/kjv/kjv.txt")                    // character vocabulary (~65)
///     let (train, test) = kjv.split(trainFraction: 0.95)                   // cut at a verse boundary
///     var rng = RNG(seed: 0)
///     let (x, y) = train.randomBatch(batchSize: 24, length: 128, rng: &rng) // x, y: [24 * 128], y = x shifted by 1
public struct TextCorpus: Sendable {
    /// Token ids, one per character (or byte).
    public let tokens: [Int]
    public let vocabulary: Vocabulary

    public var count: Int { tokens.count }

    /// Encodes `text` with `vocabulary` (by default the characters of `text` itself).
    public init(text: String, vocabulary: Vocabulary? = nil) throws {
        let vocabulary = vocabulary ?? .characters(of: text)
        self.tokens = try vocabulary.encode(text)
        self.vocabulary = vocabulary
    }

    public init(tokens: [Int], vocabulary: Vocabulary) {
        self.tokens = tokens
        self.vocabulary = vocabulary
    }

    /// A whole text file (gzip'd or plain, UTF-8) with a character vocabulary plus `specials`, or bytes.
    public static func load(_ path: String, bytes: Bool = false, specials: [String] = []) throws -> TextCorpus {
        let text = try DataFiles.readText(path)
        return try TextCorpus(text: text, vocabulary: bytes ? .bytes : .characters(of: text, specials: specials))
    }

    /// The text of tokens in `range`.
    public func text(_ range: Range<Int>) -> String { vocabulary.decode(Array(tokens[range])) }

    /// Train / validation split by fraction of tokens, cut just after the first line break at or after
    /// position ⌊fraction · count⌋ (so no line is split). Both halves keep the full vocabulary.
    public func split(trainFraction: Double) -> (train: TextCorpus, validation: TextCorpus) {
        precondition((0...1).contains(trainFraction), "TextCorpus.split: fraction \(trainFraction) outside [0, 1]")
        let newline = vocabulary.isBytes ? 10 : vocabulary.id(of: "\n")
        var cut = min(count, Int(trainFraction * Double(count)))
        if let newline {
            while cut > 0 && cut < count && tokens[cut - 1] != newline { cut += 1 }
        }
        return (TextCorpus(tokens: Array(tokens[..<cut]), vocabulary: vocabulary),
                TextCorpus(tokens: Array(tokens[cut...]), vocabulary: vocabulary))
    }

    /// `count` seeded window starts, uniform in 0...(count − length) (fixed evaluation windows).
    public func windowStarts(count windows: Int, length: Int, rng: inout RNG) -> [Int] {
        precondition(length > 0 && length <= count, "TextCorpus: window length \(length) for \(count) tokens")
        return (0..<windows).map { _ in rng.int(below: count - length + 1) }
    }

    /// A language-model batch of `batchSize` random windows: inputs [B, T] = tokens[s ..< s+T] and
    /// targets [B, T] = tokens[s+1 ..< s+T+1], flattened row-major.
    public func randomBatch(batchSize: Int, length: Int, rng: inout RNG) -> (inputs: [Int], targets: [Int]) {
        let starts = windowStarts(count: batchSize, length: length + 1, rng: &rng)
        var inputs: [Int] = [], targets: [Int] = []
        inputs.reserveCapacity(batchSize * length)
        targets.reserveCapacity(batchSize * length)
        for s in starts {
            inputs += tokens[s..<s + length]
            targets += tokens[s + 1...s + length]
        }
        return (inputs, targets)
    }
}

/// Readers of the text datasets of `make data`.
public enum TextFiles {
    /// The King James Bible, one verse per line (`make data-kjv`, verse numbers already stripped).
    /// A line that still starts with a reference like "Ge1:1 " is a `corruptFile` error.
    public static func kjvVerses(_ path: String = "data/kjv/kjv.txt") throws -> [String] {
        let verses = try DataFiles.readLines(path)
        if let n = verses.firstIndex(where: startsWithVerseReference) {
            throw LabError.corruptFile(path: path, reason: "line \(n + 1) still has a verse reference: \(verses[n].prefix(40))")
        }
        return verses
    }

    /// Whether `line` starts like "Ge1:1 " or "1Co13:4 " (book abbreviation, chapter:verse, space).
    static func startsWithVerseReference(_ line: String) -> Bool {
        guard let space = line.utf8.firstIndex(of: UInt8(ascii: " ")) else { return false }
        let head = Array(line.utf8[..<space])
        var i = 0
        func run(_ accepts: (UInt8) -> Bool) -> Int {
            let start = i
            while i < head.count && accepts(head[i]) { i += 1 }
            return i - start
        }
        let isDigit = { (b: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) }
        let isLetter = { (b: UInt8) in (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b & 0xDF) }   // either case
        _ = run(isDigit)
        guard run(isLetter) > 0, run(isDigit) > 0, i < head.count, head[i] == UInt8(ascii: ":") else { return false }
        i += 1
        return run(isDigit) > 0 && i == head.count
    }

    /// Fortune-cookie entries: the text between lines that are exactly "%" (trailing spaces allowed);
    /// blank entries are dropped, inner line breaks kept. A file with no "%" line at all is a `corruptFile` error.
    public static func fortunes(_ path: String = "data/fortunes/fortunes.txt") throws -> [String] {
        var entries: [String] = []
        var current: [String] = []
        var separators = 0
        for line in try DataFiles.readLines(path) {
            if line.trimmingTrailingWhitespace() == "%" {
                separators += 1
                let entry = current.joined(separator: "\n")
                if !entry.allSatisfy(\.isWhitespace) { entries.append(entry) }
                current = []
            } else {
                current.append(line)
            }
        }
        let last = current.joined(separator: "\n")
        if !last.allSatisfy(\.isWhitespace) { entries.append(last) }
        guard separators > 0 else {
            throw LabError.corruptFile(path: path, reason: "no \"%\" separator line: not a fortune file")
        }
        return entries
    }

    /// The non-empty lines of a line file (prompt lists, sentence lists), with surrounding whitespace trimmed.
    public static func nonEmptyLines(_ path: String) throws -> [String] {
        try DataFiles.readLines(path).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var s = Substring(self)
        while let last = s.last, last.isWhitespace { s.removeLast() }
        return String(s)
    }
}
