import Foundation
import Testing
@testable import Lab
@testable import LabData
@testable import LabLLM
@testable import LabSignal

/// Hand-made hostile files, one per case of the reliability issue: each reader must refuse them with a
/// `corruptFile` error that names the file and says what is wrong, before allocating anything the file's own
/// size does not justify.
@Suite struct FuzzHostileFilesTests {
    // MARK: - IDX

    @Test func idxHostileHeaders() throws {
        let folder = fuzzFolder("idx")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func reason(_ name: String, _ bytes: [UInt8]) throws -> String {
            let path = try writeFile(bytes, folder, name)
            return corruptReason(path) { _ = try IDX.read(path) }
        }
        let huge = 0xFFFF_FFFF
        #expect(try reason("overflow", idxBytes(shape: [huge, huge, huge], values: [1, 2, 3]))
            .contains("shape [4294967295, 4294967295, 4294967295] overflows"))
        #expect(try reason("huge-extent", idxBytes(shape: [huge], values: [1, 2, 3]))
            .contains("truncated: shape [4294967295] needs 4294967295 data bytes, found 3"))
        #expect(try reason("beyond-file", idxBytes(shape: [1000, 28, 28], values: [UInt8](repeating: 7, count: 100)))
            .contains("needs 784000 data bytes, found 100"))
        // Zero extents make an empty product that hides an absurd H x W from the image dataset.
        #expect(try reason("zero-extent", idxBytes(shape: [0, huge, huge], values: []))
            .contains("axis 0 of shape [0, 4294967295, 4294967295] has extent 0"))
        #expect(try reason("short-header", Array(idxBytes(shape: [3, 6, 5], values: []).prefix(9)))
            .contains("truncated header: 9 bytes, the 3 extents need 16"))
        #expect(try reason("rank-0", [0, 0, 8, 0]).contains("rank 0 is outside 1...4"))
        #expect(try reason("trailing", idxBytes(shape: [2], values: [1, 2, 3])).contains("1 trailing bytes"))
        #expect(try reason("gzip-cut", Array(gzipStored(idxBytes(shape: [4], values: [1, 2, 3, 4])).dropLast(6)))
            .contains("gzip stream is corrupt or truncated"))
        // A gzip size trailer claiming 4 GiB is only a capacity hint (bounded by the file size), and zlib then
        // refuses the stream whose length differs from it.
        var lying = gzipStored(idxBytes(shape: [4], values: [1, 2, 3, 4]))
        lying.replaceSubrange((lying.count - 4)..., with: littleEndian(UInt32.max))
        let lyingPath = try writeFile(lying, folder, "lying-trailer.gz")
        #expect(refusal(of: lyingPath) { _ = try IDX.read(lyingPath) } != nil, "zlib checks ISIZE against the data")
        let valid = try writeFile(gzipStored(idxBytes(shape: [2, 2], values: [1, 2, 3, 4])), folder, "valid.gz")
        #expect(try IDX.read(valid) == IDXArray(shape: [2, 2], values: [1, 2, 3, 4]))
    }

    // MARK: - Pixel CSV

    @Test func pixelCSVHostileRows() throws {
        let folder = fuzzFolder("csv")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func reason(_ name: String, _ text: String) throws -> String {
            let path = try writeFile(Array(text.utf8), folder, name)
            return corruptReason(path) { _ = try PixelCSV.read(path, pixelsPerRow: 3, maxPixel: 255, classCount: 10) }
        }
        #expect(try reason("ragged-short", "1,2,3,4\n1,2,3\n").contains("line 2: 3 fields, expected 4"))
        #expect(try reason("ragged-long", "1,2,3,4\n1,2,3,4,5\n").contains("line 2: more than 4 fields"))
        #expect(try reason("letters", "1,2,3,4\n1,two,3,4\n").contains("line 2: unexpected character 't' in field 2"))
        #expect(try reason("negative", "1,-2,3,4\n").contains("line 1: unexpected character '-' in field 2"))
        #expect(try reason("fraction", "1,2.5,3,4\n").contains("unexpected character '.'"))
        #expect(try reason("pixel-range", "1,2,256,4\n").contains("line 1: pixel 3 = 256 is above 255"))
        #expect(try reason("label-range", "1,2,3,10\n").contains("label 10 is not below 10"))
        #expect(try reason("huge", "1,2,99999999999999999999999,4\n").contains("field 3 is not a small integer"))
        #expect(try reason("empty-field", "1,,3,4\n").contains("field 2 is empty"))
        #expect(try reason("trailing-comma", "1,2,3,4,\n").contains("line 1: field 5 is empty"))
        #expect(try reason("binary", "1,2,\u{0},4\n").contains("byte 0x0"))
        #expect(try reason("empty", "").contains("CSV has no rows"))
        #expect(try reason("blank-lines", "\n\n\r\n").contains("CSV has no rows"))
        let valid = try writeFile(Array("1,2,3,4\n\n5,6,7,8\r\n".utf8), folder, "valid.csv")
        let table = try PixelCSV.read(valid, pixelsPerRow: 3, maxPixel: 255, classCount: 10)
        #expect(table.pixels == [1, 2, 3, 5, 6, 7] && table.labels == [4, 8])
    }

    // MARK: - WAV

    @Test func wavAbsurdSampleRatesAreRefused() throws {
        let folder = fuzzFolder("wav-rates")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let samples = (0..<400).map { Int16($0 * 50) }
        for rate in [Int(Int32.max), 0, 1, 64, 999, 12_600_000, 384_001] {
            let path = try writeFile(wavFileBytes(rate: rate, channels: 1, pcm16: samples), folder, "rate-\(rate).wav")
            let reason = corruptReason(path) { _ = try AudioFile.read(path) }
            // libsndfile itself refuses a 0 Hz header before we see it.
            #expect(rate == 0 || reason.contains("sample rate of \(rate) Hz, outside the plausible 1000...384000 Hz"),
                    "\(rate) Hz: \(reason)")
        }
        for rate in [1_000, 8_000, 384_000] {
            let path = try writeFile(wavFileBytes(rate: rate, channels: 1, pcm16: samples), folder, "ok-\(rate).wav")
            #expect(try AudioFile.read(path).sampleRate == rate)
        }
        // A caller that states its rates refuses the others instead of resampling them.
        let wideband = try writeFile(wavFileBytes(rate: 44_100, channels: 1, pcm16: samples), folder, "cd.wav")
        #expect(corruptReason(wideband) { _ = try AudioFile.read(wideband, sampleRates: 8_000...16_000) }
            .contains("sample rate 44100 Hz is outside the 8000...16000 Hz expected here"))
        #expect(corruptReason(wideband) { _ = try AudioFile.read(wideband, sampleRates: 16_000...16_000) }
            .contains("outside the 16000 Hz expected here"))
    }

    @Test func audioClipsRefuseAHostileFileInsteadOfResamplingIt() throws {
        let folder = fuzzFolder("wav-clips")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let samples = (0..<400).map { Int16($0 * 50) }
        _ = try writeFile(wavFileBytes(rate: 8_000, channels: 1, pcm16: samples), folder, "a.wav")
        #expect(try AudioClips(folder: folder, sampleRate: 8_000).clips.count == 1)
        // 2^31 - 1 Hz once asked the resampler for a 610 GB filter table.
        let hostile = try writeFile(wavFileBytes(rate: Int(Int32.max), channels: 1, pcm16: samples), folder, "b.wav")
        #expect(corruptReason(hostile) { _ = try AudioClips(folder: folder, sampleRate: 8_000) }.contains("2147483647 Hz"))
        try FileManager.default.removeItem(atPath: hostile)
        let cd = try writeFile(wavFileBytes(rate: 44_100, channels: 1, pcm16: samples), folder, "c.wav")
        #expect(try AudioClips(folder: folder, sampleRate: 8_000).clips.count == 2)
        #expect(corruptReason(cd) { _ = try AudioClips(folder: folder, sampleRate: 8_000, sourceSampleRates: 8_000...16_000) }
            .contains("44100 Hz is outside the 8000...16000 Hz expected here"))
    }

    @Test func wavAbsurdFrameCountsAndChannels() throws {
        let folder = fuzzFolder("wav-frames")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let valid = wavFileBytes(rate: 8_000, channels: 1, pcm16: (0..<400).map { Int16($0 * 50) })
        func with(_ offset: Int, _ field: [UInt8]) -> [UInt8] {
            var bytes = valid
            bytes.replaceSubrange(offset..<(offset + field.count), with: field)
            return bytes
        }
        // A data chunk declaring 2 GiB or 4 GiB - 2 in an 844-byte file: refused as truncated, nothing allocated.
        for size in [UInt32(0x7FFF_FFFF), 0xFFFF_FFFE] {
            let path = try writeFile(with(40, littleEndian(size)), folder, "data-\(size).wav")
            #expect(corruptReason(path) { _ = try AudioFile.read(path) }.contains("truncated"))
        }
        let noChannels = try writeFile(with(22, littleEndian(UInt16(0))), folder, "channels-0.wav")
        #expect(!corruptReason(noChannels) { _ = try AudioFile.read(noChannels) }.isEmpty)
        let manyChannels = try writeFile(with(22, littleEndian(UInt16.max)), folder, "channels-65535.wav")
        #expect(!corruptReason(manyChannels) { _ = try AudioFile.read(manyChannels) }.isEmpty)
        let cut = try writeFile(Array(valid.prefix(300)), folder, "cut.wav")
        #expect(corruptReason(cut) { _ = try AudioFile.read(cut) }.contains("truncated"))
        let empty = try writeFile(Array(valid.prefix(44)), folder, "no-frames.wav")
        #expect(!corruptReason(empty) { _ = try AudioFile.read(empty) }.isEmpty)
    }

    @Test func wavNonFiniteSamplesNameTheFirstOne() throws {
        let folder = fuzzFolder("wav-nan")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var samples = (0..<300).map { Float($0) / 300 }
        samples[123] = .nan
        samples[200] = .infinity
        let mono = try writeFile(wavFileBytes(rate: 16_000, channels: 1, float32: samples), folder, "nan.wav")
        #expect(corruptReason(mono) { _ = try AudioFile.read(mono) }.contains("sample nan at frame 123 is not finite"))
        let stereo = try writeFile(wavFileBytes(rate: 16_000, channels: 2, float32: samples), folder, "nan-stereo.wav")
        #expect(corruptReason(stereo) { _ = try AudioFile.read(stereo) }.contains("sample nan at frame 61, channel 1 is not finite"))
        samples[123] = 0.5
        let infinite = try writeFile(wavFileBytes(rate: 16_000, channels: 1, float32: samples), folder, "inf.wav")
        #expect(corruptReason(infinite) { _ = try AudioFile.read(infinite) }.contains("sample inf at frame 200"))
        samples[200] = -1
        let finite = try writeFile(wavFileBytes(rate: 16_000, channels: 1, float32: samples), folder, "finite.wav")
        #expect(try AudioFile.read(finite).samples == samples)
        // Finite but huge float samples (found by the fuzz suite): the stereo downmix must not overflow to inf.
        let huge = try writeFile(wavFileBytes(rate: 16_000, channels: 2, float32: [3e38, 3e38, -3e38, -3e38]), folder, "huge.wav")
        #expect(try AudioFile.read(huge).samples == [3e38, -3e38])
    }

    // MARK: - Safetensors

    @Test func safetensorsHostileHeaders() throws {
        let folder = fuzzFolder("safetensors")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func reason(_ name: String, _ bytes: [UInt8]) throws -> String {
            let path = try writeFile(bytes, folder, name)
            return corruptReason(path) { _ = try Safetensors.read(path) }
        }
        let eight = [UInt8](repeating: 0, count: 8)
        func file(_ entries: String, data: [UInt8] = eight) -> [UInt8] { safetensorsBytes(header: "{\(entries)}", data: data) }
        let good = #""a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}"#
        #expect(try Safetensors.read(writeFile(file(good), folder, "good"))["a"]?.shape == [2])

        var longHeader = file(good)
        longHeader.replaceSubrange(0..<8, with: littleEndian(UInt64(1_000_000)))
        #expect(try reason("header-past-end", longHeader).contains("header length 1000000 does not fit the 72 bytes after it"))
        longHeader.replaceSubrange(0..<8, with: littleEndian(UInt64.max))
        #expect(try reason("header-2^64", longHeader).contains("header length 18446744073709551615"))
        longHeader.replaceSubrange(0..<8, with: littleEndian(UInt64(0)))
        #expect(try reason("header-0", longHeader).contains("header length 0"))
        #expect(try reason("short", [1, 2, 3]).contains("3 bytes, shorter than the 8-byte header length"))
        #expect(try reason("not-json", safetensorsBytes(header: "PK\u{3}\u{4} zip", data: [])).contains("is not a JSON object"))
        #expect(try reason("json-array", safetensorsBytes(header: "[1, 2]", data: [])).contains("is not a JSON object"))
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(try reason("json-deep", safetensorsBytes(header: #"{"a": \#(deep)}"#, data: [])).contains("JSON"))
        #expect(try reason("beyond", file(#""a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}"#))
            .contains("entry \"a\": data_offsets [8, 16] lie outside the 8-byte data section"))
        #expect(try reason("reversed", file(#""a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}"#))
            .contains("data_offsets [8, 0] lie outside"))
        #expect(try reason("negative-offset", file(#""a": {"dtype": "F32", "shape": [2], "data_offsets": [-8, 0]}"#))
            .contains("data_offsets [-8, 0]"))
        #expect(try reason("huge-offset", file(#""a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 18446744073709551615]}"#))
            .contains("two integer data_offsets"))
        #expect(try reason("fraction", file(#""a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 7.5]}"#))
            .contains("two integer data_offsets"))
        #expect(try reason("overlap", file(#""a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}"#))
            .contains("entry \"b\" at [4, 8] overlaps the tensor before it (which ends at 8)"))
        #expect(try reason("gap", file(#""a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}"#))
            .contains("4 unused data bytes before entry \"a\""))
        #expect(try reason("leftover", file(#""a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}"#))
            .contains("4 data bytes after the last tensor"))
        #expect(try reason("dtype", file(#""a": {"dtype": "F16", "shape": [4], "data_offsets": [0, 8]}"#))
            .contains("entry \"a\" has dtype \"F16\"; only F32"))
        #expect(try reason("bytes", file(#""a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 8]}"#))
            .contains("shape [1] of F32 needs 4 bytes, data_offsets [0, 8] hold 8"))
        #expect(try reason("negative-extent", file(#""a": {"dtype": "F32", "shape": [-2, -1], "data_offsets": [0, 8]}"#))
            .contains("negative extent in shape [-2, -1]"))
        #expect(try reason("shape-overflow", file(#""a": {"dtype": "F32", "shape": [4294967296, 4294967296, 0], "data_offsets": [0, 8]}"#))
            .contains("shape [4294967296, 4294967296, 0] overflows"))
        #expect(try reason("shape-huge", file(#""a": {"dtype": "F32", "shape": [2147483648, 2147483648], "data_offsets": [0, 8]}"#))
            .contains("shape [2147483648, 2147483648] needs more than the 8 data bytes"))
        #expect(try reason("no-shape", file(#""a": {"dtype": "F32", "data_offsets": [0, 8]}"#)).contains("entry \"a\" lacks"))
        #expect(try reason("entry-string", file(#""a": "F32""#)).contains("entry \"a\" lacks"))
        // Names and dtypes from the file are quoted and escaped: binary or terminal escapes are never echoed raw.
        let binary = try reason("binary-name", file(#""\u0007\n\u001b[31m": {"dtype": "\u0000", "shape": [2], "data_offsets": [0, 8]}"#))
        #expect(binary.contains("has dtype") && binary.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }, "\(binary)")
    }

    // MARK: - GGUF

    @Test func ggufNestedArraysStopAtTheDepthLimit() throws {
        let folder = fuzzFolder("gguf-nested")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // One key holding an array of an array of ... 100,000 deep: the reader used to recurse until the stack
        // overflowed.
        var h = GGUFWriter()
        h.u32(0x4655_4747); h.u32(3); h.u64(0); h.u64(1)
        h.key("deep", type: 9)
        for _ in 0..<100_000 { h.u32(9); h.u64(1) }
        h.u32(4); h.u64(1); h.u32(7)
        let path = try writeFile(h.bytes, folder, "deep.gguf")
        #expect(corruptReason(path) { _ = try GGUFFile(path: path) }
            .contains("key deep: arrays nested deeper than \(GGUFFile.maximumArrayDepth)"))
        // Depth 8 (the limit) still loads.
        var ok = GGUFWriter()
        ok.u32(0x4655_4747); ok.u32(3); ok.u64(0); ok.u64(1)
        ok.key("nested", type: 9)
        for _ in 0..<(GGUFFile.maximumArrayDepth - 1) { ok.u32(9); ok.u64(1) }
        ok.u32(4); ok.u64(1); ok.u32(7)
        let okPath = try writeFile(ok.bytes, folder, "ok.gguf")
        var value = try #require(try GGUFFile(path: okPath).metadata["nested"])
        for _ in 0..<(GGUFFile.maximumArrayDepth - 1) { value = try #require(value.array?.first) }
        #expect(value == .array([.uint32(7)]))
    }

    @Test func ggufKeyErrorsNeverEchoRawBinary() throws {
        let folder = fuzzFolder("gguf-key")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A key of terminal escape codes, a NUL, invalid UTF-8 and 300 more bytes, with an unknown value type.
        let key: [UInt8] = [0x1B, 0x5B, 0x32, 0x4A, 0x00, 0xFF, 0xFE, 0x07, 0x0A] + [UInt8](repeating: 0x41, count: 300)
        var h = GGUFWriter()
        h.u32(0x4655_4747); h.u32(3); h.u64(0); h.u64(1)
        h.u64(UInt64(key.count)); h.bytes += key; h.u32(99)
        let path = try writeFile(h.bytes, folder, "binary-key.gguf")
        let reason = corruptReason(path) { _ = try GGUFFile(path: path) }
        #expect(reason.hasPrefix("key \\u{1B}[2J\\u{0}\\u{FFFD}\\u{FFFD}\\u{7}\\u{A}AAA"), "\(reason)")
        #expect(reason.contains("… (309 characters): unknown value type 99"), "\(reason)")
        #expect(reason.unicodeScalars.allSatisfy { (0x20..<0x7F).contains($0.value) || $0 == "…" }, "\(reason)")
        #expect(GGUFFile.printable("blk.0.attn_q.weight") == "blk.0.attn_q.weight")
        #expect(GGUFFile.printable("a\\b") == "a\\u{5C}b")
    }

    @Test func llamaConfigurationsThatWouldDivideByZeroOrGiveNaNAreRefused() throws {
        let folder = fuzzFolder("gguf-llama")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func reason(_ name: String, _ bytes: [UInt8]) throws -> String {
            let path = try writeFile(bytes, folder, name + ".gguf")
            return corruptReason(path) { _ = try LlamaModel(path: path) }
        }
        let cases: [(String, [String: GGUFTestValue?], String)] = [
            ("kv-heads-zero", ["llama.attention.head_count_kv": .u32(0)], "llama.attention.head_count_kv is 0; it must be a positive count"),
            ("heads-zero", ["llama.attention.head_count": .u32(0)], "llama.attention.head_count is 0"),
            ("kv-heads-negative", ["llama.attention.head_count_kv": .i32(-2)], "llama.attention.head_count_kv is -2"),
            ("kv-heads-uneven", ["llama.attention.head_count_kv": .u32(3)], "inconsistent attention shape: 2 heads, 3 kv heads"),
            ("eps-nan", ["llama.attention.layer_norm_rms_epsilon": .f32(.nan)], "llama.attention.layer_norm_rms_epsilon is nan; it must be a positive Float32 below 1"),
            ("eps-negative", ["llama.attention.layer_norm_rms_epsilon": .f32(-1e-5)], "layer_norm_rms_epsilon is -9.99"),
            ("eps-zero", ["llama.attention.layer_norm_rms_epsilon": .f32(0)], "layer_norm_rms_epsilon is 0.0"),
            ("eps-text", ["llama.attention.layer_norm_rms_epsilon": .string("tiny")], "layer_norm_rms_epsilon is not a number"),
            ("rope-nan", ["llama.rope.freq_base": .f32(.nan)], "llama.rope.freq_base is nan; it must be a finite number above 1"),
            ("rope-zero", ["llama.rope.freq_base": .f32(0)], "llama.rope.freq_base is 0.0"),
            ("rope-negative", ["llama.rope.freq_base": .f32(-10_000)], "llama.rope.freq_base is -10000.0"),
            ("rope-infinite", ["llama.rope.freq_base": .f32(.infinity)], "llama.rope.freq_base is inf"),
            ("context-huge", ["llama.context_length": .u32(1 << 30)], "llama.context_length 1073741824 x head dim 2 exceeds the RoPE table limit"),
            ("width-huge", ["llama.embedding_length": .u32(1 << 20)], "tensor token_embd.weight has shape [8, 4], expected [8, 1048576]"),
            ("head-dim-odd", ["llama.rope.dimension_count": .u32(1)], "inconsistent attention shape"),
            ("vocab-mismatch", ["llama.vocab_size": .u32(9)], "tokenizer.ggml.tokens has 8 tokens but llama.vocab_size is 9"),
            ("bos-outside", ["tokenizer.ggml.bos_token_id": .u32(8)], "tokenizer.ggml.bos_token_id is 8, outside the 8 tokens"),
            ("blocks-huge", ["llama.block_count": .u32(16_776_960)], "llama.block_count is 16776960 but the file has only 11 tensors"),
            ("no-heads", ["llama.attention.head_count": nil], "metadata key llama.attention.head_count is missing or not an integer"),
            ("architecture", ["general.architecture": .string("gpt\u{1B}[2J")], "general.architecture is gpt\\u{1B}[2J; this loader handles llama"),
        ]
        for (name, metadata, expected) in cases {
            let got = try reason(name, tinyLlamaGGUF(metadata: metadata))
            #expect(got.contains(expected), "\(name): \(got)")
        }
        // A tensor offset past the end of the file, one that overlaps the file end, and a NaN weight.
        let pastEnd = try reason("offset-past-end", tinyLlamaGGUF(tensorOffsetShift: 1 << 20))
        #expect(pastEnd.contains("tensor blk.0.ffn_down.weight offset 10") && pastEnd.contains("is past the end of the file"), "\(pastEnd)")
        #expect(try reason("offset-overlaps-end", tinyLlamaGGUF(tensorOffsetShift: 32)).contains("blk.0.ffn_down.weight (f32, 64 bytes at data offset"))
        #expect(try reason("nan-weight", tinyLlamaGGUF(poisonFirstWeight: true))
            .contains("tensor token_embd.weight (f32 at data offset 0) has a non-finite weight nan at element 0"))
        // The unmodified file loads and gives finite logits, so each case above fails for its own reason.
        let path = try writeFile(tinyLlamaGGUF(), folder, "valid.gguf")
        let model = try LlamaModel(path: path)
        #expect(model.config.kvHeads == 1 && model.config.headDim == 2 && model.config.contextLength == 16)
        #expect(try model.forward([[0, 1, 2]]).logits(row: 0).allSatisfy(\.isFinite))
        // A prompt with no room left in the context is refused before the prefill, naming the limit.
        #expect(throws: LabError.invalidArgument("the prompt has 12 tokens; with 8 tokens to generate it needs 19 positions, above the model's context length 16")) {
            _ = try model.generate(prompt: Array(repeating: 1, count: 12), maxTokens: 8)
        }
        #expect(try model.generate(prompt: Array(repeating: 1, count: 12), maxTokens: 5, stopTokens: []).count == 5)
    }
}
