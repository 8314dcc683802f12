import Foundation
import Lab

/// GPT-2-style byte-level BPE, read from a GGUF's `tokenizer.ggml.*` keys.
///
/// Encoding: (1) split the text on special (control) tokens such as `<|im_start|>`; (2) pre-tokenise each
/// piece: for `tokenizer.ggml.pre` = "smollm" every digit is first isolated (Hugging Face `Digits(individual)`),
/// then the GPT-2 pattern `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` splits the
/// rest; (3) map each pre-token's UTF-8 bytes to GPT-2's printable byte alphabet ("Ġ" = space); (4) merge the
/// adjacent pair of lowest merge rank until none is left; (5) look the symbols up in the vocabulary.
/// Decoding maps the symbols back to bytes, so encode → decode is the identity on any UTF-8 string.
public final class BPETokenizer: @unchecked Sendable {
    public let tokens: [String]
    public let bosID: Int, eosID: Int
    /// Control tokens (`<|endoftext|>`, `<|im_start|>`, `<|im_end|>`, ...), matched verbatim before BPE.
    public let specialTokens: [String: Int]
    /// The pre-tokeniser name from `tokenizer.ggml.pre` ("smollm" isolates digits; "gpt2" does not).
    public let preTokenizer: String
    private let vocabulary: [String: Int]
    /// Merge rank by pair, key = left + " " + right (the GGUF's merge strings).
    private let mergeRanks: [String: Int]
    private let byteToSymbol: [Character]
    private let symbolToByte: [Character: UInt8]
    private let specialsByLength: [String]
    private let cache = Mutex<[String: [Int]]>([:])

    public convenience init(gguf: GGUFFile) throws {
        let tokens = try gguf.strings("tokenizer.ggml.tokens")
        let merges = try gguf.strings("tokenizer.ggml.merges")
        let types = gguf.metadata["tokenizer.ggml.token_type"]?.array?.compactMap { $0.integer }
        let model = try gguf.string("tokenizer.ggml.model")
        guard model == "gpt2" else {
            throw LabError.corruptFile(path: gguf.path, reason: "tokenizer.ggml.model is \(GGUFFile.printable(model)); only gpt2 (byte-level BPE) is supported")
        }
        var specials: [String] = []
        if let types, types.count == tokens.count {
            for (i, t) in types.enumerated() where t == 3 || t == 4 { specials.append(tokens[i]) }  // CONTROL, USER_DEFINED
        }
        func tokenID(_ key: String) throws -> Int {
            let id = try gguf.integer(key)
            guard tokens.indices.contains(id) else {
                throw LabError.corruptFile(path: gguf.path, reason: "\(key) is \(id), outside the \(tokens.count) tokens of tokenizer.ggml.tokens")
            }
            return id
        }
        self.init(tokens: tokens, merges: merges, specialTokens: specials,
                  bosID: try tokenID("tokenizer.ggml.bos_token_id"),
                  eosID: try tokenID("tokenizer.ggml.eos_token_id"),
                  preTokenizer: gguf.metadata["tokenizer.ggml.pre"]?.string ?? "gpt2")
    }

    public init(tokens: [String], merges: [String], specialTokens: [String], bosID: Int, eosID: Int, preTokenizer: String) {
        self.tokens = tokens
        self.bosID = bosID
        self.eosID = eosID
        self.preTokenizer = preTokenizer
        var vocab: [String: Int] = [:]
        vocab.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() where vocab[t] == nil { vocab[t] = i }
        vocabulary = vocab
        var ranks: [String: Int] = [:]
        ranks.reserveCapacity(merges.count)
        for (i, m) in merges.enumerated() where ranks[m] == nil { ranks[m] = i }
        mergeRanks = ranks
        var specialIDs: [String: Int] = [:]
        for s in specialTokens { specialIDs[s] = vocab[s] }
        self.specialTokens = specialIDs
        specialsByLength = specialIDs.keys.sorted { $0.count > $1.count }
        byteToSymbol = BPETokenizer.gpt2ByteAlphabet()
        var back: [Character: UInt8] = [:]
        for (b, c) in byteToSymbol.enumerated() { back[c] = UInt8(b) }
        symbolToByte = back
    }

    public var vocabularySize: Int { tokens.count }

    /// GPT-2's `bytes_to_unicode`: printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100...
    static func gpt2ByteAlphabet() -> [Character] {
        var table = [Character](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            if printable { table[b] = Character(Unicode.Scalar(UInt32(b))!) } else {
                table[b] = Character(Unicode.Scalar(next)!)
                next += 1
            }
        }
        return table
    }

    /// Token ids of `text`. With `parseSpecial`, control-token strings in the text become their single ids.
    public func encode(_ text: String, parseSpecial: Bool = true) -> [Int] {
        var out: [Int] = []
        let scalars = Array(text.unicodeScalars)
        var start = 0, i = 0
        if parseSpecial && !specialsByLength.isEmpty {
            let specialScalars = specialsByLength.map { (Array($0.unicodeScalars), specialTokens[$0]!) }
            while i < scalars.count {
                if scalars[i] == "<", let (s, id) = specialScalars.first(where: { matches($0.0, scalars, at: i) }) {
                    encodeOrdinary(scalars[start..<i], into: &out)
                    out.append(id)
                    i += s.count
                    start = i
                } else { i += 1 }
            }
        }
        encodeOrdinary(scalars[start..<scalars.count], into: &out)
        return out
    }

    private func matches(_ pattern: [Unicode.Scalar], _ s: [Unicode.Scalar], at i: Int) -> Bool {
        guard i + pattern.count <= s.count else { return false }
        for k in 0..<pattern.count where s[i + k] != pattern[k] { return false }
        return true
    }

    private func encodeOrdinary(_ scalars: ArraySlice<Unicode.Scalar>, into out: inout [Int]) {
        for piece in preTokenize(Array(scalars)) { out.append(contentsOf: bpe(piece)) }
    }

    /// The pre-tokens of a text without special tokens (each a string of Unicode scalars).
    public func preTokenize(_ s: [Unicode.Scalar]) -> [String] {
        var pieces: [String] = []
        if preTokenizer == "smollm" {
            var start = 0
            for (i, c) in s.enumerated() where Self.isNumber(c) {
                if start < i { Self.gpt2Split(s[start..<i], into: &pieces) }
                pieces.append(String(Character(c)))
                start = i + 1
            }
            if start < s.count { Self.gpt2Split(s[start..<s.count], into: &pieces) }
        } else {
            Self.gpt2Split(s[...], into: &pieces)
        }
        return pieces
    }

    static func isLetter(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }
    static func isNumber(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }
    static func isSpace(_ c: Unicode.Scalar) -> Bool { c.properties.isWhitespace }

    /// The GPT-2 regex, hand-matched left to right with the same alternative order and backtracking.
    static func gpt2Split(_ s: ArraySlice<Unicode.Scalar>, into pieces: inout [String]) {
        var i = s.startIndex
        let end = s.endIndex
        func emit(_ a: Int, _ b: Int) {
            var str = ""
            str.unicodeScalars.append(contentsOf: s[a..<b])
            pieces.append(str)
        }
        func run(from a: Int, while p: (Unicode.Scalar) -> Bool) -> Int {
            var j = a
            while j < end && p(s[j]) { j += 1 }
            return j
        }
        let isOther: (Unicode.Scalar) -> Bool = { !isSpace($0) && !isLetter($0) && !isNumber($0) }
        while i < end {
            let c = s[i]
            // 's 't 're 've 'm 'll 'd
            if c == "'" && i + 1 < end {
                let n = s[i + 1]
                if n == "s" || n == "t" || n == "m" || n == "d" { emit(i, i + 2); i += 2; continue }
                if i + 2 < end {
                    let n2 = s[i + 2]
                    if (n == "r" && n2 == "e") || (n == "v" && n2 == "e") || (n == "l" && n2 == "l") {
                        emit(i, i + 3); i += 3; continue
                    }
                }
            }
            // ' ?' followed by a run of letters, of numbers, or of other non-space characters
            let body = (c == " " && i + 1 < end) ? i + 1 : i
            if let klass = [isLetter, isNumber, isOther].first(where: { $0(s[body]) }) {
                let j = run(from: body, while: klass)
                emit(i, j)
                i = j
                continue
            }
            // Whitespace: \s+(?!\S) takes the run minus its last character when a non-space follows; else \s+.
            let j = run(from: i, while: isSpace)
            if j < end && j - i > 1 { emit(i, j - 1); i = j - 1 } else { emit(i, j); i = j }
        }
    }

    /// Byte-level BPE of one pre-token: repeatedly merge the lowest-rank adjacent pair.
    private func bpe(_ piece: String) -> [Int] {
        if let hit = cache.withLock({ $0[piece] }) { return hit }
        var symbols: [String] = piece.utf8.map { String(byteToSymbol[Int($0)]) }
        while symbols.count > 1 {
            var best = Int.max, at = -1
            for k in 0..<(symbols.count - 1) {
                if let r = mergeRanks[symbols[k] + " " + symbols[k + 1]], r < best { best = r; at = k }
            }
            if at < 0 { break }
            let left = symbols[at], right = symbols[at + 1]
            // Merge every occurrence of this pair, left to right (what merging them one at a time gives).
            var next: [String] = []
            next.reserveCapacity(symbols.count)
            var k = 0
            while k < symbols.count {
                if k + 1 < symbols.count && symbols[k] == left && symbols[k + 1] == right {
                    next.append(left + right); k += 2
                } else { next.append(symbols[k]); k += 1 }
            }
            symbols = next
        }
        var ids: [Int] = []
        for sym in symbols {
            if let id = vocabulary[sym] { ids.append(id); continue }
            // A symbol outside the vocabulary: fall back to its single bytes (all 256 are in a byte-level vocab).
            for ch in sym { if let id = vocabulary[String(ch)] { ids.append(id) } }
        }
        cache.withLock { $0[piece] = ids }
        return ids
    }

    /// The UTF-8 bytes of a token sequence (special tokens as their text).
    public func decodeBytes(_ ids: [Int]) -> [UInt8] {
        var bytes: [UInt8] = []
        for id in ids where id >= 0 && id < tokens.count {
            let t = tokens[id]
            if specialTokens[t] != nil { bytes.append(contentsOf: Array(t.utf8)); continue }
            for ch in t {
                if let b = symbolToByte[ch] { bytes.append(b) } else { bytes.append(contentsOf: Array(String(ch).utf8)) }
            }
        }
        return bytes
    }

    /// The text of a token sequence (invalid UTF-8 at a cut multi-byte character becomes U+FFFD).
    public func decode(_ ids: [Int]) -> String { String(decoding: decodeBytes(ids), as: UTF8.self) }

    /// One chat message for `chatPrompt`.
    public struct Message: Sendable {
        public var role: String, content: String
        public init(role: String, content: String) { self.role = role; self.content = content }
    }

    /// SmolLM2's ChatML template (the GGUF's `tokenizer.chat_template`): a default system message when the
    /// first message is not a system one, `<|im_start|>role\ncontent<|im_end|>\n` per message, then
    /// `<|im_start|>assistant\n` when `addGenerationPrompt`.
    public static func chatPrompt(_ messages: [Message], addGenerationPrompt: Bool = true,
                                  defaultSystem: String = "You are a helpful AI assistant named SmolLM, trained by Hugging Face") -> String {
        var s = ""
        if messages.first?.role != "system" { s += "<|im_start|>system\n\(defaultSystem)<|im_end|>\n" }
        for m in messages { s += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
        if addGenerationPrompt { s += "<|im_start|>assistant\n" }
        return s
    }
}

/// A small lock-protected value (the tokenizer's pre-token cache is shared across threads).
final class Mutex<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock(); defer { lock.unlock() }
        return body(&value)
    }
}
