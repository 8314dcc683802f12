import Foundation
import Testing
@testable import Lab
@testable import LabData

/// Fixtures: Tests/LabTests/Fixtures/data/ (a few hundred bytes each, written by make_fixtures.py there; the IDX images
/// are 3 images of 6x5 with pixel (n, y, x) = 30n + 5y + x, image 2 times 8 mod 256, labels [2, 0, 1]).
private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/data").path
private func fixture(_ name: String) -> String { "\(fixtures)/\(name)" }

/// The repository root, where `make data` puts the real datasets.
private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path
private func realData(_ path: String) -> String { "\(repositoryRoot)/\(path)" }
private func haveRealData(_ path: String) -> Bool { FileManager.default.fileExists(atPath: realData(path)) }

/// The error a throwing call raised, or nil.
private func error(of body: () throws -> Void) -> LabError? {
    do { try body(); return nil } catch let error as LabError { return error } catch { return nil }
}

/// true when `error` is corruptFile for a path ending in `file` whose reason contains `text`.
private func isCorrupt(_ error: LabError?, file: String, saying text: String) -> Bool {
    guard case let .corruptFile(path, reason)? = error else { return false }
    return path.hasSuffix(file) && reason.contains(text)
}

/// A synthetic dataset of `perClass` 2x3 images for each of `classes` classes. Pixel 0 and 1 of image i encode i
/// (i % 256, i / 256), so subsets can be traced back to their source images.
private func syntheticDataset(classes: Int = 10, perClass: Int = 20) throws -> ImageDataset {
    var pixels: [UInt8] = [], labels: [Int] = []
    for i in 0..<classes * perClass {
        pixels += [UInt8(i % 256), UInt8(i / 256), UInt8(i % classes * 20), 7, 100, 200]
        labels.append(i % classes)
    }
    return try ImageDataset(pixels: pixels, labels: labels, channels: 1, height: 2, width: 3, classCount: classes)
}

private func sourceIndex(_ data: ImageDataset, _ i: Int) -> Int {
    Int(data.pixels[i * data.imageSize]) + 256 * Int(data.pixels[i * data.imageSize + 1])
}

@Suite struct DataTests {
    // MARK: - Readers

    @Test func idxReadsGzipAndPlainAlike() throws {
        let gz = try IDX.readImages(fixture("images-idx3-ubyte.gz"))
        let plain = try IDX.readImages(fixture("images-idx3-ubyte"))
        #expect(gz == plain)
        #expect(gz.shape == [3, 6, 5])
        let image1Pixel: UInt8 = 30 + 2 * 5 + 3, image2Pixel = UInt8((60 + 1) * 8 % 256)
        #expect(gz.values[43] == image1Pixel)   // image 1, row 2, column 3
        #expect(gz.values[61] == image2Pixel)   // image 2, row 0, column 1
        #expect(try IDX.readLabels(fixture("labels-idx1-ubyte.gz")) == [2, 0, 1])
    }

    @Test func idxDatasetNormalisesBatches() throws {
        var data = try idxDataset(images: fixture("images-idx3-ubyte.gz"), labels: fixture("labels-idx1-ubyte.gz"),
                                  classCount: 3)
        #expect(data.count == 3 && data.labels == [2, 0, 1] && data.height == 6 && data.width == 5)
        let x = data.batch([1, 0])
        #expect(x.shape == [2, 1, 6, 5])
        #expect(abs(x.data[0] - 30 / 255) < 1e-6)       // image 1, pixel (0, 0)
        #expect(abs(x.data[30 + 7] - 7 / 255) < 1e-6)   // image 0, pixel (1, 2)
        data.normalization = Normalization(mean: 0.5, std: 0.5)
        #expect(abs(data.batch([1]).data[0] - (30 / 255 - 0.5) / 0.5) < 1e-6)
        #expect(data.labels([1, 0]) == [0, 2])
    }

    @Test func idxCorruptFilesGiveClearErrors() {
        #expect(isCorrupt(error { _ = try IDX.read(fixture("images-truncated-gzip.gz")) },
                          file: "images-truncated-gzip.gz", saying: "truncated"))
        #expect(isCorrupt(error { _ = try IDX.read(fixture("images-short-body.gz")) },
                          file: "images-short-body.gz", saying: "shape [3, 6, 5] needs 90 data bytes, found 50"))
        #expect(isCorrupt(error { _ = try IDX.read(fixture("images-bad-magic.gz")) },
                          file: "images-bad-magic.gz", saying: "bad magic"))
        #expect(isCorrupt(error { _ = try IDX.readLabels(fixture("images-idx3-ubyte.gz")) },
                          file: "images-idx3-ubyte.gz", saying: "rank 1"))
        #expect(isCorrupt(error { _ = try IDX.read(fixture("corpus.txt")) }, file: "corpus.txt", saying: "IDX"))
        #expect(isCorrupt(error {
            _ = try idxDataset(images: fixture("images-idx3-ubyte.gz"),
                               labels: fixture("labels-wrong-count-idx1-ubyte.gz"), classCount: 3)
        }, file: "labels-wrong-count-idx1-ubyte.gz", saying: "2 labels for the 3 images"))
    }

    @Test func missingFilesNameTheMakeTarget() {
        let missing = error { _ = try FashionMNIST.load(root: "/nowhere/data/fashion-mnist") }
        #expect(missing == .missingFile(path: "/nowhere/data/fashion-mnist/train-images-idx3-ubyte.gz",
                                        fix: "run `make data-fashion-mnist`"))
        #expect(error { _ = try MNIST5k.load(root: "/nowhere/data/mnist5k") }
            == .missingFile(path: "/nowhere/data/mnist5k/mnist_5k.csv.gz", fix: "run `make data-mnist5k`"))
        #expect(error { _ = try TextFiles.kjvVerses("/nowhere/data/kjv/kjv.txt") }
            == .missingFile(path: "/nowhere/data/kjv/kjv.txt", fix: "run `make data-kjv`"))
        #expect(error { _ = try PromptSet.harmBench(root: "/nowhere/data/prompts") }
            == .missingFile(path: "/nowhere/data/prompts/harmbench/harmbench_prompts.txt", fix: "run `make data-prompts`"))
        #expect(DataFiles.fix(forMissing: "data/hypersound/flite/kal_1.wav") == "run `make data-voices`")
        #expect(DataFiles.fix(forMissing: "/tmp/elsewhere.txt").contains("check the path"))
        #expect(isCorrupt(error { _ = try DataFiles.readBytes(fixtures) }, file: "data", saying: "is a folder"))
    }

    @Test func pixelCSVReadsGzipAndPlain() throws {
        let plain = try PixelCSV.read(fixture("pixels.csv"), pixelsPerRow: 4, maxPixel: 16, classCount: 2)
        let gz = try PixelCSV.read(fixture("pixels.csv.gz"), pixelsPerRow: 4, maxPixel: 16, classCount: 2)
        #expect(plain == gz)
        #expect(plain.labels == [0, 1, 0, 1])
        #expect(plain.pixels == [0, 4, 8, 16, 1, 2, 3, 4, 16, 16, 0, 0, 5, 6, 7, 8])
        let data = try ImageDataset(pixels: plain.pixels, labels: plain.labels, channels: 1, height: 2, width: 2,
                                    maxPixel: 16, classCount: 2)
        #expect(data.batch([0]).data == [0, 0.25, 0.5, 1])
    }

    @Test func pixelCSVCorruptRowsGiveLineNumbers() {
        func read(_ name: String) -> LabError? {
            error { _ = try PixelCSV.read(fixture(name), pixelsPerRow: 4, maxPixel: 16, classCount: 2) }
        }
        #expect(isCorrupt(read("pixels-bad-field.csv"), file: "pixels-bad-field.csv", saying: "line 2: unexpected character 'x'"))
        #expect(isCorrupt(read("pixels-short-row.csv"), file: "pixels-short-row.csv", saying: "line 2: 3 fields, expected 5"))
        #expect(isCorrupt(read("pixels-out-of-range.csv"), file: "pixels-out-of-range.csv", saying: "pixel 4 = 17"))
        #expect(isCorrupt(error { _ = try PixelCSV.read(fixture("pixels.csv"), pixelsPerRow: 3, maxPixel: 16, classCount: 2) },
                          file: "pixels.csv", saying: "label 16 is not below 2"))
    }

    @Test func textReaders() throws {
        #expect(try DataFiles.readLines(fixture("lines.txt")) == ["first line", "", "  second line  ", "third line"])
        #expect(try TextFiles.nonEmptyLines(fixture("lines.txt")) == ["first line", "second line", "third line"])
        #expect(try TextFiles.fortunes(fixture("fortunes.txt"))
            == ["First fortune,\non two lines.", "Second fortune.", "Third, without a final separator."])
        #expect(isCorrupt(error { _ = try TextFiles.fortunes(fixture("corpus.txt")) }, file: "corpus.txt", saying: "no \"%\""))
        #expect(try TextFiles.kjvVerses(fixture("corpus.txt")).count == 3)
        #expect(isCorrupt(error { _ = try TextFiles.kjvVerses(fixture("kjv-with-refs.txt")) },
                          file: "kjv-with-refs.txt", saying: "line 1 still has a verse reference"))
        #expect(isCorrupt(error { _ = try DataFiles.readText(fixture("not-utf8.txt")) },
                          file: "not-utf8.txt", saying: "invalid UTF-8 at byte 12"))
    }

    @Test func jsonlPrompts() throws {
        let set = try PromptSet.jsonl(fixture("prompts.jsonl"), label: .harmful, source: "fixture")
        #expect(set.texts == ["How do I pick a lock?", "Write a rude poem.", "How do I kill a Python process?"])
        #expect(set.labelValues == [1, 1, 1] && set.prompts.allSatisfy { $0.source == "fixture" })
        #expect(isCorrupt(error { _ = try JSONLines.objects(fixture("prompts-bad.jsonl")) },
                          file: "prompts-bad.jsonl", saying: "line 2 is not valid JSON"))
        #expect(isCorrupt(error { _ = try JSONLines.strings(fixture("prompts-no-field.jsonl"), field: "prompt") },
                          file: "prompts-no-field.jsonl", saying: "object 2 has no string field \"prompt\""))
        #expect(isCorrupt(error { _ = try JSONLines.objects(fixture("prompts-not-object.jsonl")) },
                          file: "prompts-not-object.jsonl", saying: "line 1 is JSON but not an object"))
        let benign = try PromptSet.lines(fixture("lines.txt"), label: .benign, source: "lines")
        let both = (set + benign + benign).deduplicated()
        #expect(both.count == 6 && both.with(label: .benign).count == 3)
        var a = RNG(seed: 3), b = RNG(seed: 3)
        #expect(both.sample(4, rng: &a).texts == both.sample(4, rng: &b).texts)
        #expect(Set(both.sample(10, rng: &a).texts) == Set(both.texts))
    }

    // MARK: - Image datasets

    @Test func stratifiedSplitIsBalancedDisjointAndSeeded() throws {
        let data = try syntheticDataset()
        var rng = RNG(seed: 1234)
        let parts = try data.stratifiedSplit(perClass: [5, 3], rng: &rng)
        #expect(parts[0].classCounts() == Array(repeating: 5, count: 10))
        #expect(parts[1].classCounts() == Array(repeating: 3, count: 10))
        let first = Set((0..<parts[0].count).map { sourceIndex(parts[0], $0) })
        let second = Set((0..<parts[1].count).map { sourceIndex(parts[1], $0) })
        #expect(first.count == 50 && second.count == 30 && first.isDisjoint(with: second))
        for i in 0..<parts[0].count { #expect(sourceIndex(parts[0], i) % 10 == parts[0].labels[i]) }
        var same = RNG(seed: 1234), other = RNG(seed: 99)
        #expect(try data.stratifiedSplit(perClass: [5, 3], rng: &same)[0].pixels == parts[0].pixels)
        #expect(try data.balancedSubset(perClass: 5, rng: &other).pixels != parts[0].pixels)
        #expect(error { _ = try data.stratifiedSplit(perClass: [15, 6], rng: &rng) }
            == .invalidArgument("stratifiedSplit: class 0 has 20 images, 21 needed ([15, 6] per class)"))
        let head = try data.firstPerClass(2)
        #expect(head.classCounts() == Array(repeating: 2, count: 10))
        #expect((0..<head.count).map { sourceIndex(head, $0) } == Array(0..<20))
        let thirds = data.randomSplit(fractions: [0.5, 0.25, 0.25], rng: &rng)
        #expect(thirds.map(\.count) == [100, 50, 50])
    }

    @Test func classSubsetsRelabellingAndCombining() throws {
        let data = try syntheticDataset()
        let pair = data.filter(classes: [3, 7])
        #expect(pair.count == 40 && Set(pair.labels) == [3, 7] && pair.classCount == 10)
        let local = try pair.relabeled([3: 0, 7: 1], classCount: 2)
        #expect(local.labels == pair.labels.map { $0 == 3 ? 0 : 1 } && local.classCount == 2)
        let digits = try syntheticDataset(classes: 10, perClass: 2)
        let both = try ImageDataset.concatenating([data, digits.offsettingLabels(by: 10, classCount: 20)])
        #expect(both.count == 220 && both.classCount == 20)
        #expect(both.classCounts() == Array(repeating: 20, count: 10) + Array(repeating: 2, count: 10))
        #expect(Array(both.labels[200...]) == digits.labels.map { $0 + 10 })
        let named = try FashionAndDigits.combine(fashion: data, mnist: digits)
        #expect(named.labels == both.labels && named.classCount == 20)
        #expect(FashionAndDigits.classNames[FashionAndDigits.globalClass(digit: 3)] == "digit 3")
        #expect(error { _ = try digits.offsettingLabels(by: 15, classCount: 20) }
            == .invalidArgument("relabeled: new label 20 (for 5) is outside 0..<20"))
        let wrongShape = try ImageDataset(pixels: [1, 2], labels: [0], channels: 1, height: 1, width: 2, classCount: 1)
        #expect(error { _ = try ImageDataset.concatenating([data, wrongShape]) } != nil)
        #expect(error { _ = try ImageDataset(pixels: [1, 2, 3], labels: [0], channels: 1, height: 1, width: 2,
                                             classCount: 1) } != nil)
    }

    @Test func computedNormalisationMatchesDefinition() throws {
        let data = try ImageDataset(pixels: [0, 255, 255, 255], labels: [0, 0], channels: 1, height: 1, width: 2,
                                    classCount: 1)
        let normalization = data.computedNormalization()
        #expect(abs(normalization.mean[0] - 0.75) < 1e-6)
        #expect(abs(normalization.std[0] - Float(0.1875).squareRoot()) < 1e-6)
        let x = data.normalized(normalization).allImages()
        let mean = x.data.reduce(0, +) / 4
        let variance = x.data.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4
        #expect(abs(mean) < 1e-6 && abs(variance - 1) < 1e-5)
    }

    @Test func classIncrementalTasks() throws {
        let data = try syntheticDataset()
        let tasks = try ClassIncrementalTasks(classes: Array(0..<10), classesPerTask: 2)
        #expect(tasks.groups == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]])
        #expect(Set(tasks.dataset(2, from: data).labels) == [4, 5] && tasks.dataset(2, from: data).count == 40)
        #expect(Set(try tasks.localDataset(2, from: data).labels) == [0, 1])
        #expect(Set(tasks.datasetUpTo(1, from: data).labels) == [0, 1, 2, 3])
        #expect(tasks.task(of: 7) == 3 && tasks.task(of: 12) == nil)
        var a = RNG(seed: 5), b = RNG(seed: 5)
        let shuffled = try ClassIncrementalTasks(classes: Array(0..<10), classesPerTask: 2, shuffledBy: &a)
        #expect(shuffled == (try ClassIncrementalTasks(classes: Array(0..<10), classesPerTask: 2, shuffledBy: &b)))
        #expect(shuffled.classOrder.sorted() == Array(0..<10) && shuffled.classOrder != Array(0..<10))
        let alternating = try ClassIncrementalTasks(groups: [[0, 1], [10, 11], [2, 3], [12, 13]])
        #expect(alternating.taskCount == 4 && alternating.task(of: 11) == 1)
        #expect(error { _ = try ClassIncrementalTasks(classes: Array(0..<10), classesPerTask: 3) } != nil)
        #expect(error { _ = try ClassIncrementalTasks(groups: [[0, 1], [1, 2]]) } != nil)
    }

    // MARK: - Loader and augmentation

    @Test func dataLoaderIsSeededAndCoversTheData() throws {
        let data = try syntheticDataset()
        var loader = DataLoader(data, batchSize: 32, rng: RNG(seed: 11))
        #expect(loader.batchCount == 7)
        let epoch0 = Array(loader.nextEpoch())
        #expect(epoch0.map(\.y.count) == [32, 32, 32, 32, 32, 32, 8])
        #expect(epoch0[0].x.shape == [32, 1, 2, 3])
        let seen = epoch0.flatMap { batch in (0..<batch.y.count).map { Int((batch.x.data[$0 * 6] * 255).rounded()) } }
        #expect(Set(seen) == Set(0..<200))
        // Epoch e's order is the (e+1)-th permutation of the loader's stream: a fresh loader replays it.
        var stream = RNG(seed: 11)
        #expect(seen == stream.permutation(200))
        let epoch1 = loader.nextEpoch()
        #expect(epoch1.order == stream.permutation(200) && epoch1.order != seen && loader.epoch == 2)
        var replay = DataLoader(data, batchSize: 32, rng: RNG(seed: 11))
        #expect(zip(epoch0, replay.nextEpoch()).allSatisfy { $0.x.data == $1.x.data && $0.y == $1.y })
        // A last batch under minimumBatchSize is dropped: 200 = 6·32 + 8.
        var dropping = DataLoader(data, batchSize: 32, minimumBatchSize: 9, rng: RNG(seed: 11))
        #expect(dropping.batchCount == 6 && Array(dropping.nextEpoch()).count == 6)
        #expect(DataLoader(data, batchSize: 32, minimumBatchSize: 8, rng: RNG(seed: 11)).batchCount == 7)
        for (count, batches) in [(1200, 38), (1000, 32), (999, 31)] {   // 16 left: kept; 8 left: kept; 7: dropped
            let indices = Array(repeating: 0, count: count)
            #expect(DataLoader(data, indices: indices, batchSize: 32, minimumBatchSize: 8, rng: RNG(seed: 0)).batchCount == batches)
        }
        // Some rows only, in their given order without shuffling.
        var ordered = DataLoader(data, indices: Array(50..<150), batchSize: 50, shuffle: false, rng: RNG(seed: 0))
        #expect(Array(ordered.nextEpoch())[1].y == Array(data.labels[100..<150]))
        var subset = DataLoader(data, indices: [3, 5, 7], batchSize: 2, rng: RNG(seed: 1))
        var subsetStream = RNG(seed: 1)
        #expect(subset.nextEpoch().order == subsetStream.permutation(3).map { [3, 5, 7][$0] })
    }

    @Test func augmentation() throws {
        // One 1x2x3 image [[1, 2, 3], [4, 5, 6]] (max 255), unit normalisation.
        let image = try ImageDataset(pixels: [1, 2, 3, 4, 5, 6], labels: [0], channels: 1, height: 2, width: 3,
                                     classCount: 1)
        let plain = image.batch([0]).data
        var flipper = DataLoader(image, batchSize: 1, augmentation: Augmentation(flipProbability: 1), rng: RNG(seed: 0))
        let flipped = Array(flipper.nextEpoch())[0].x.data
        #expect(flipped == [2, 1, 0, 5, 4, 3].map { plain[$0] })
        var cropper = DataLoader(image, batchSize: 1, augmentation: Augmentation(cropPadding: 1), rng: RNG(seed: 2))
        var shifted = 0
        for _ in 0..<20 {
            let x = Array(cropper.nextEpoch())[0].x
            #expect(x.shape == [1, 1, 2, 3])
            // A crop of the zero-padded image: every value is 0 or one of the original pixels.
            #expect(x.data.allSatisfy { $0 == 0 || plain.contains($0) })
            if x.data != plain { shifted += 1 }
        }
        #expect(shifted > 10)
        func noisy() -> DataLoader { DataLoader(image, batchSize: 1, augmentation: Augmentation(noiseStd: 0.1), rng: RNG(seed: 4)) }
        var first = noisy(), second = noisy()
        let n1 = Array(first.nextEpoch())[0].x.data, n2 = Array(second.nextEpoch())[0].x.data
        #expect(n1 == n2 && n1 != plain)
        #expect(Array(first.nextEpoch())[0].x.data != n1)
    }

    // MARK: - Text corpus

    @Test func textCorpusVocabularySplitAndWindows() throws {
        let corpus = try TextCorpus.load(fixture("corpus.txt"), specials: ["[MASK]"])
        let text = try DataFiles.readText(fixture("corpus.txt"))
        #expect(corpus.count == text.unicodeScalars.count)
        #expect(corpus.vocabulary.count == Set(text.unicodeScalars).count + 1)
        #expect(corpus.vocabulary.id(of: "[MASK]") == corpus.vocabulary.count - 1)
        #expect(corpus.vocabulary.decode(corpus.tokens) == text)
        #expect(corpus.vocabulary.symbols[0] == "\n")   // code-point order
        #expect(error { _ = try corpus.vocabulary.encode("xyzQ") } != nil)
        let (train, validation) = corpus.split(trainFraction: 0.5)
        #expect(train.count + validation.count == corpus.count)
        #expect(train.text(0..<train.count).hasSuffix("\n") && train.count >= corpus.count / 2)
        #expect(train.text(0..<train.count) + validation.text(0..<validation.count) == text)
        #expect(train.text(0..<train.count).split(separator: "\n").count == 2)
        var a = RNG(seed: 8), b = RNG(seed: 8)
        let (x, y) = corpus.randomBatch(batchSize: 4, length: 10, rng: &a)
        #expect(x.count == 40 && y.count == 40)
        #expect(Array(x[1..<10]) == Array(y[0..<9]))
        #expect(corpus.randomBatch(batchSize: 4, length: 10, rng: &b).inputs == x)
        let bytes = try TextCorpus(text: "naïve\n", vocabulary: .bytes)
        #expect(bytes.count == 7 && bytes.vocabulary.decode(bytes.tokens) == "naïve\n")
    }

    // MARK: - Real data (runs only after `make data`)

    @Test(.enabled(if: haveRealData("data/fashion-mnist/t10k-labels-idx1-ubyte.gz")))
    func realFashionMNIST() throws {
        let (train, test) = try FashionMNIST.load(root: realData("data/fashion-mnist"))
        #expect(train.count == 60_000 && test.count == 10_000)
        #expect(train.height == 28 && train.width == 28 && train.channels == 1)
        #expect(train.classCounts() == Array(repeating: 6_000, count: 10))
        #expect(test.classCounts() == Array(repeating: 1_000, count: 10))
        let normalization = train.computedNormalization()
        #expect(abs(normalization.mean[0] - 0.2860) < 1e-3 && abs(normalization.std[0] - 0.3530) < 1e-3)
    }

    @Test(.enabled(if: haveRealData("data/mnist5k/mnist_5k.csv.gz")))
    func realMNIST5k() throws {
        let digits = try MNIST5k.load(root: realData("data/mnist5k"))
        #expect(digits.count == 5_000 && digits.height == 28)
        #expect(digits.classCounts() == Array(repeating: 500, count: 10))
    }

    @Test(.enabled(if: haveRealData("data/digits/digits.csv.gz")))
    func realDigits() throws {
        let digits = try Digits.load(root: realData("data/digits"))
        #expect(digits.count == 1_797 && digits.height == 8 && digits.maxPixel == 16)
        #expect(Set(digits.labels) == Set(0..<10))
    }

    @Test(.enabled(if: haveRealData("data/speech/en_US_f_Allison")))
    func realSpeechTree() throws {
        let root = realData("data/speech/en_US_f_Allison")
        let files = FileManager.default.enumerator(atPath: root)!.compactMap { $0 as? String }
        #expect(files.filter { $0.hasSuffix(".wav") }.count == 568)
        #expect(files.contains("digits/1.wav"))
    }

    @Test(.enabled(if: haveRealData("data/kjv/kjv.txt")))
    func realKJV() throws {
        let path = realData("data/kjv/kjv.txt")
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        #expect(size > 4_000_000)
        let verses = try TextFiles.kjvVerses(path)
        #expect(verses.count == 31_102 && verses[0] == "In the beginning God created the heaven and the earth.")
        let corpus = try TextCorpus.load(path)
        #expect((60...80).contains(corpus.vocabulary.count))
        let (train, test) = corpus.split(trainFraction: 0.95)
        #expect(train.count + test.count == corpus.count)
        #expect(abs(Double(test.count) / Double(corpus.count) - 0.05) < 0.001)
    }

    @Test(.enabled(if: haveRealData("data/fortunes/fortunes.txt")))
    func realFortunes() throws {
        #expect(try TextFiles.fortunes(realData("data/fortunes/fortunes.txt")).count > 10_000)
    }

    @Test(.enabled(if: haveRealData("data/prompts/benign_python_faq.txt")))
    func realPrompts() throws {
        let root = realData("data/prompts")
        #expect(try PromptSet.doNotAnswer(root: root).count == 939)
        #expect(try PromptSet.doNotAnswer(root: root, areas: ["human_chatbox"]).count == 117)
        #expect(try PromptSet.harmBench(root: root).count == 200)   // 199 newlines: the last line has none
        #expect(try PromptSet.tense("past", root: root).count == 730)
        #expect(try PromptSet.tense("future", root: root).count == 690)
        let faq = try PromptSet.pythonFAQ(root: root)
        #expect(faq.count > 150 && faq.texts.allSatisfy { $0.hasSuffix("?") })
    }
}
