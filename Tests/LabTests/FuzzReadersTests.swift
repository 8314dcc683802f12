import Foundation
import Testing
@testable import Lab
@testable import LabData
@testable import LabLLM
@testable import LabSignal

/// The seeded fuzz suite of the file readers: hundreds of mutants (bit flips, byte overwrites, truncations,
/// inflated length fields, spliced garbage, hostile numbers in text) of small valid files built here. Every
/// mutant must either load and pass the validation below or be refused with a `LabError` naming the file; a trap
/// or a huge allocation ends the test process. The same seed gives the same mutants on every run.
@Suite struct FuzzReadersTests {
    /// Mutants per reader (the whole suite takes a few seconds in release mode) and the seed; a longer campaign:
    /// `LAB_FUZZ_COUNT=50000 LAB_FUZZ_SEED=7 swift test -c release --filter FuzzReaders`.
    static let mutantsPerReader = environment("LAB_FUZZ_COUNT").flatMap(Int.init) ?? 800
    static let seed = environment("LAB_FUZZ_SEED").flatMap(UInt64.init) ?? 19

    private static func environment(_ name: String) -> String? { ProcessInfo.processInfo.environment[name] }

    /// Every reader must meet both outcomes, or the mutations are too weak (all refused) or miss (all loaded).
    private func report(_ reader: String, _ outcome: FuzzOutcome) {
        print("fuzz \(reader): \(outcome)")
        #expect(outcome.total == Self.mutantsPerReader)
        #expect(outcome.loaded > 0 && outcome.refused > 0, "\(reader): \(outcome)")
    }

    @Test func idx() throws {
        let seeds = [
            (idxBytes(shape: [6], values: [0, 1, 2, 9, 4, 5]), idxLengthFields(rank: 1), "labels-idx1-ubyte"),
            (idxBytes(shape: [3, 4, 5], values: (0..<60).map { UInt8($0 * 4) }), idxLengthFields(rank: 3), "images-idx3-ubyte"),
            (idxBytes(shape: [2, 2, 2, 2], values: (0..<16).map(UInt8.init)), idxLengthFields(rank: 4), "rank4-ubyte"),
        ]
        let gzipped = seeds.map { (gzipStored($0.0), [LengthField](), $0.2 + ".gz") }
        let outcome = try fuzz("idx", seeds: (seeds + gzipped).map { ($0.0, $0.1, $0.2) }, count: Self.mutantsPerReader,
                               seed: Self.seed) { path in
            let array = try IDX.read(path)
            #expect((1...4).contains(array.shape.count) && array.shape.allSatisfy { $0 > 0 })
            #expect(array.values.count == array.shape.reduce(1, *))
            if array.shape.count == 3 {   // what idxDataset builds from an image file
                let images = try ImageDataset(pixels: array.values, labels: [Int](repeating: 0, count: array.shape[0]),
                                              channels: 1, height: array.shape[1], width: array.shape[2], classCount: 1)
                #expect(images.batch([images.count - 1]).shape == [1, 1, array.shape[1], array.shape[2]])
            }
        }
        report("IDX", outcome)
    }

    @Test func pixelCSV() throws {
        var rng = RNG(seed: Self.seed).derived("csv seeds")
        let mnistLike = pixelCSVBytes(rows: 5, pixelsPerRow: 6, maxPixel: 255, classCount: 10, rng: &rng)
        let digitsLike = pixelCSVBytes(rows: 8, pixelsPerRow: 6, maxPixel: 16, classCount: 10, rng: &rng)
        let seeds = [(mnistLike, [LengthField](), "mnist.csv"), (digitsLike, [], "digits.csv"),
                     (gzipStored(mnistLike), [], "mnist.csv.gz")]
        let outcome = try fuzz("csv", seeds: seeds.map { ($0.0, $0.1, $0.2) }, count: Self.mutantsPerReader, text: true,
                               seed: Self.seed) { path in
            let maxPixel = path.contains("digits") ? 16 : 255
            let table = try PixelCSV.read(path, pixelsPerRow: 6, maxPixel: maxPixel, classCount: 10)
            #expect(!table.labels.isEmpty && table.pixels.count == table.labels.count * 6)
            #expect(table.pixels.allSatisfy { Int($0) <= maxPixel } && table.labels.allSatisfy { (0..<10).contains($0) })
        }
        report("pixel CSV", outcome)
    }

    @Test func audio() throws {
        var rng = RNG(seed: Self.seed).derived("wav seeds")
        let tone = (0..<240).map { sin(Float($0) * 0.2) * 0.5 }
        let seeds: [([UInt8], [LengthField], String)] = [
            (wavFileBytes(rate: 8_000, channels: 1, pcm16: tone.map { Int16($0 * 32_767) }), wavLengthFields, "pcm16.wav"),
            (wavFileBytes(rate: 44_100, channels: 2, pcm16: tone.map { _ in Int16.random(in: -900...900, using: &rng) }),
             wavLengthFields, "pcm16-stereo.wav"),
            (wavFileBytes(rate: 16_000, channels: 1, float32: tone), wavLengthFields, "float32.wav"),
            (wavFileBytes(rate: 22_050, channels: 2, float32: tone.reversed()), wavLengthFields, "float32-stereo.wav"),
        ]
        // Files written by libsndfile itself: FLAC (compressed frames, a total-samples field) and a float WAV
        // with its extra chunks.
        let folder = fuzzFolder("wav-seeds")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let written = try [("written.flac", AudioFile.Encoding.pcm16), ("written-float.wav", .float32)].map { name, encoding in
            let path = (folder as NSString).appendingPathComponent(name)
            try AudioFile.write(Audio(samples: tone, sampleRate: 16_000), to: path, encoding: encoding)
            return ([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), [LengthField](), name)
        }
        let outcome = try fuzz("wav", seeds: seeds + written, count: Self.mutantsPerReader, seed: Self.seed) { path in
            let audio = try AudioFile.read(path)
            #expect(AudioFile.plausibleSampleRates.contains(audio.sampleRate))
            #expect(!audio.samples.isEmpty && audio.samples.allSatisfy(\.isFinite))
        }
        report("WAV/FLAC", outcome)
    }

    @Test func safetensors() throws {
        let folder = fuzzFolder("safetensors-seeds")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var rng = RNG(seed: Self.seed).derived("safetensors seeds")
        func tensor(_ shape: [Int]) -> Tensor {
            Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in Float(rng.normal()) })
        }
        let headerLength = [LengthField(offset: 0, width: 8, bigEndian: false)]
        let seeds: [([UInt8], [LengthField], String)] = [
            (try safetensorsBytes(["layer.weight": tensor([3, 2]), "layer.bias": tensor([3])], folder: folder),
             headerLength, "linear.safetensors"),
            (try safetensorsBytes(["scale": tensor([]), "empty": tensor([0, 4]), "table": tensor([2, 2, 2])], folder: folder),
             headerLength, "mixed.safetensors"),
        ]
        let outcome = try fuzz("safetensors", seeds: seeds, count: Self.mutantsPerReader, text: true, seed: Self.seed) { path in
            for (name, value) in try Safetensors.read(path) {
                #expect(value.shape.allSatisfy { $0 >= 0 } && value.data.count == value.shape.reduce(1, *), "\(name)")
            }
        }
        report("safetensors", outcome)
    }

    /// The GGUF reader on its own (every value type, arrays nested, six tensor types, alignment 64), and the
    /// whole Llama loader (configuration checks, tokenizer, shapes, finite weights) on a complete tiny model.
    @Test func gguf() throws {
        let counts = [LengthField(offset: 8, width: 8, bigEndian: false), LengthField(offset: 16, width: 8, bigEndian: false)]
        let reader = try fuzz("gguf", seeds: [(syntheticGGUF().bytes, counts, "synthetic.gguf"),
                                              (syntheticGGUF(version: 2).bytes, counts, "synthetic-v2.gguf")],
                              count: Self.mutantsPerReader, seed: Self.seed) { path in
            let file = try GGUFFile(path: path)
            #expect([2, 3].contains(file.version) && file.dataOffset % file.alignment == 0)
            for tensor in file.tensors {
                #expect(file.dataOffset + tensor.offset + tensor.byteCount <= file.fileSize, "\(tensor.name)")
                #expect(file.floats(tensor).count == tensor.elementCount)
            }
        }
        report("GGUF", reader)
        // Random 4-byte words get the hostile values here (no field list): counts, dimensions, offsets, the
        // configuration's integers and floats.
        let model = try fuzz("gguf-llama", seeds: [(tinyLlamaGGUF(), [], "tiny-llama.gguf")], count: Self.mutantsPerReader,
                             seed: Self.seed) { path in
            let llm = try LlamaModel(path: path)
            let config = llm.config
            #expect(config.kvHeads >= 1 && config.heads % config.kvHeads == 0 && config.headDim * config.heads == config.width)
            #expect(config.normEpsilon.isFinite && config.normEpsilon > 0 && config.ropeBase.isFinite && config.ropeBase > 1)
            #expect(llm.tokenizer.vocabularySize == config.vocabularySize)
            _ = try llm.forward([[0, config.vocabularySize - 1]])
        }
        report("GGUF Llama model", model)
    }
}
