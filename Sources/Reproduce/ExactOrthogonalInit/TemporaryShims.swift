// TEMPORARY until LabRun / LabData land on main: the run options, a job pool and a gzip IDX/CSV reader.
// Replaced by LabRun.RunOptions, LabRun.JobPool and LabData at merge time.
import CZlib
import ExactOrthogonalInitCore
import Dispatch
import Foundation
import Lab

enum Scale: String { case smoke, full }

struct Options {
    var scale = Scale.full
    var seed = 0
    var out: String?
    var quiet = false

    static func parse() -> Options {
        var o = Options()
        var args = CommandLine.arguments.dropFirst()
        while let a = args.popFirst() {
            switch a {
            case "--scale": o.scale = Scale(rawValue: args.popFirst() ?? "") ?? .full
            case "--seed": o.seed = Int(args.popFirst() ?? "0") ?? 0
            case "--out": o.out = args.popFirst()
            case "--quiet": o.quiet = true
            default: break
            }
        }
        return o
    }
}

enum JobPool {
    static func run<Result: Sendable>(_ jobs: [@Sendable () throws -> Result], workers: Int = 2) throws -> [Result] {
        let previous = Parallel.threads
        Parallel.setThreads(1)
        defer { Parallel.setThreads(previous) }
        let box = Box<Result>(jobs.count)
        DispatchQueue.concurrentPerform(iterations: min(workers, jobs.count)) { _ in
            while true {
                let i: Int? = box.lock.withLock { defer { box.next += 1 }; return box.next < jobs.count ? box.next : nil }
                guard let i else { return }
                let r = Swift.Result { try jobs[i]() }
                box.lock.withLock { box.out[i] = r }
            }
        }
        return try box.out.map { try $0!.get() }
    }
}

final class Box<R>: @unchecked Sendable {
    let lock = NSLock(); var next = 0; var out: [Swift.Result<R, Error>?]
    init(_ n: Int) { out = Array(repeating: nil, count: n) }
}

func readGzip(_ path: String) throws -> [UInt8] {
    guard FileManager.default.fileExists(atPath: path) else {
        throw LabError.missingFile(path: path, fix: "run `make data-fashion-mnist` / `make data-mnist5k`")
    }
    guard let f = gzopen(path, "rb") else { throw LabError.corruptFile(path: path, reason: "cannot open") }
    defer { gzclose(f) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = chunk.withUnsafeMutableBytes { gzread(f, $0.baseAddress, UInt32($0.count)) }
        if n < 0 { throw LabError.corruptFile(path: path, reason: "gzip error") }
        if n == 0 { break }
        out += chunk[0..<Int(n)]
    }
    return out
}

/// Raw images (0-255, 784 each) and labels.
struct RawImages: Sendable { var pixels: [UInt8]; var labels: [Int] }

func readIDX(images: String, labels: String) throws -> RawImages {
    let i = try readGzip(images), l = try readGzip(labels)
    func be(_ b: [UInt8], _ o: Int) -> Int { Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]) }
    let n = be(i, 4)
    return RawImages(pixels: Array(i[16..<(16 + n * 784)]), labels: l[8..<(8 + n)].map { Int($0) })
}

func readMNIST5k(_ path: String) throws -> RawImages {
    let text = String(decoding: try readGzip(path), as: UTF8.self)
    var px: [UInt8] = [], lb: [Int] = []
    for line in text.split(separator: "\n") {
        let v = line.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces))! }
        px += v[0..<784].map { UInt8($0) }; lb.append(v[784])
    }
    return RawImages(pixels: px, labels: lb)
}

/// Indices of a class-balanced subset: `perClass` random images of each class.
func balancedIndices(_ labels: [Int], perClass: Int, rng: inout RNG) -> [Int] {
    var byClass = [[Int]](repeating: [], count: 10)
    for (i, y) in labels.enumerated() { byClass[y].append(i) }
    var out: [Int] = []
    for var c in byClass { rng.shuffle(&c); out += c.prefix(perClass) }
    return out.sorted()
}

/// Pixels / 255, standardised: (x − mean)/std.
func standardized(_ raw: RawImages, _ indices: [Int], mean: Double, std: Double) -> LabeledImages {
    var data = [Float](repeating: 0, count: indices.count * 784)
    for (k, i) in indices.enumerated() {
        for p in 0..<784 { data[k * 784 + p] = Float((Double(raw.pixels[i * 784 + p]) / 255 - mean) / std) }
    }
    return LabeledImages(images: Tensor(shape: [indices.count, 784], data: data), labels: indices.map { raw.labels[$0] })
}

func pixelMoments(_ raw: RawImages) -> (mean: Double, std: Double) {
    var s = 0.0, s2 = 0.0
    for p in raw.pixels { let v = Double(p) / 255; s += v; s2 += v * v }
    let n = Double(raw.pixels.count)
    return (s / n, (s2 / n - (s / n) * (s / n)).squareRoot())
}
