import Foundation
import Lab

/// Which FFN tensor is sparsified (the paper's five targets).
public enum SparsityTarget: String, CaseIterable, Sendable {
    case input, gate, up, intermediate
    case allInputs = "all_inputs"

    /// The FFN points the rule rewrites: `all_inputs` sparsifies x and h (h computed from the sparsified x).
    public var points: [FFNHookPoint] {
        switch self {
        case .input: return [.input]
        case .gate: return [.gate]
        case .up: return [.up]
        case .intermediate: return [.intermediate]
        case .allInputs: return [.input, .intermediate]
        }
    }

    /// FFN matmul FLOPs saved, as a fraction of the FFN's: an input zero skips a column of W_g and W_u (2 of
    /// 3 matrices); a gate or up zero skips the other projection's row and a W_d column (2/3); an
    /// intermediate zero skips a W_d column (1/3). sIn, sInt: sparsity of x and of the rewritten tensor of width m.
    public func ffnFLOPSaving(inputSparsity sIn: Double, intermediateSparsity sInt: Double) -> Double {
        switch self {
        case .input: return 2.0 / 3 * sIn
        case .gate, .up: return 2.0 / 3 * sInt
        case .intermediate: return 1.0 / 3 * sInt
        case .allInputs: return 2.0 / 3 * sIn + 1.0 / 3 * sInt
        }
    }
}

/// Zero and entry counts of the hooked tensors of one forward (or one window), per layer and point.
public struct SparsityCounts: Sendable, Equatable {
    /// zeros[layer][point], entries[layer][point]; points in FFNHookPoint.allCases order.
    public var zeros: [[Int]]
    public var entries: [[Int]]

    public init(layers: Int) {
        zeros = Array(repeating: Array(repeating: 0, count: FFNHookPoint.allCases.count), count: layers)
        entries = zeros
    }

    public static func + (a: SparsityCounts, b: SparsityCounts) -> SparsityCounts {
        var out = a
        for l in a.zeros.indices {
            for k in a.zeros[l].indices { out.zeros[l][k] += b.zeros[l][k]; out.entries[l][k] += b.entries[l][k] }
        }
        return out
    }

    mutating func add(layer: Int, point: FFNHookPoint, zeros z: Int, entries n: Int) {
        let k = FFNHookPoint.allCases.firstIndex(of: point)!
        zeros[layer][k] += z
        entries[layer][k] += n
    }

    /// Model sparsity: Σ zeros / Σ entries over all layers and the given points (width-weighted).
    public func sparsity(points: [FFNHookPoint]) -> Double {
        var z = 0, n = 0
        for l in zeros.indices {
            for p in points {
                let k = FFNHookPoint.allCases.firstIndex(of: p)!
                z += zeros[l][k]; n += entries[l][k]
            }
        }
        return n == 0 ? 0 : Double(z) / Double(n)
    }

    /// Sparsity of the width-m tensor a target rewrites (gate, up or intermediate; all_inputs: intermediate),
    /// s_int of the FLOP saving; 0 for input.
    public func wideSparsity(_ target: SparsityTarget) -> Double {
        switch target {
        case .input: return 0
        case .gate: return sparsity(points: [.gate])
        case .up: return sparsity(points: [.up])
        case .intermediate, .allInputs: return sparsity(points: [.intermediate])
        }
    }

    /// Sparsity of one layer over the given points: Σ zeros / Σ entries (0 when nothing was counted).
    public func sparsity(layer: Int, points: [FFNHookPoint]) -> Double {
        var z = 0, n = 0
        for p in points {
            let k = FFNHookPoint.allCases.firstIndex(of: p)!
            z += zeros[layer][k]; n += entries[layer][k]
        }
        return n == 0 ? 0 : Double(z) / Double(n)
    }
}

/// Applies a rule to a target's points in the chosen layers and counts zeros over the scored rows.
/// Used as the hook of both SmolLM2 (raw activation views) and the trained ladder models (tensors).
public final class SparsityProbe {
    public let rule: SparsityRule
    public let target: SparsityTarget
    /// nil = every layer.
    public let layers: Set<Int>?
    public private(set) var counts: SparsityCounts
    /// Whether packed row r counts in the sparsity (a scored position); nil = every row.
    public var countedRows: [Bool]?
    /// Optional observer of each rewritten activation (layer, point, rows base, rows, width, stride).
    public var observe: ((Int, FFNHookPoint, UnsafePointer<Float>, Int, Int, Int) -> Void)?

    public init(rule: SparsityRule, target: SparsityTarget, layerCount: Int, layers: Set<Int>? = nil) {
        self.rule = rule
        self.target = target
        self.layers = layers
        counts = SparsityCounts(layers: layerCount)
    }

    /// Whether (layer, point) is rewritten by this probe.
    public func acts(layer: Int, point: FFNHookPoint) -> Bool {
        target.points.contains(point) && (layers?.contains(layer) ?? true)
    }

    /// Rewrites rows in place (when this probe acts there) and counts their zeros.
    public func apply(layer: Int, point: FFNHookPoint, base: UnsafeMutablePointer<Float>, rows: Int, width: Int, rowStride: Int) {
        guard acts(layer: layer, point: point) else { return }
        let perRow = Sparsify.rowZeroCounts(rule, to: base, rows: rows, width: width, rowStride: rowStride)
        var z = 0, counted = 0
        for r in 0..<rows where countedRows?[r] ?? true { z += perRow[r]; counted += 1 }
        counts.add(layer: layer, point: point, zeros: z, entries: counted * width)
        observe?(layer, point, UnsafePointer(base), rows, width, rowStride)
    }

    /// The tensor form for `SwiGLU` hooks: x: [rows, width] (any leading shape) → the rewritten copy.
    public func apply(layer: Int, point: FFNHookPoint, _ x: Tensor) -> Tensor {
        guard acts(layer: layer, point: point) else { return x }
        let width = x.shape[x.rank - 1]
        var values = x.data
        values.withUnsafeMutableBufferPointer {
            apply(layer: layer, point: point, base: $0.baseAddress!, rows: $0.count / width, width: width, rowStride: width)
        }
        return Tensor(shape: x.shape, data: values)
    }

    /// Starts a new count (e.g. per window).
    public func resetCounts() { counts = SparsityCounts(layers: counts.zeros.count) }
}

/// Effective rank (Roy & Vetterli 2007, as the paper's code, no centering) of activations A: [rows, cols]:
/// σ = singular values, from the eigenvalues of the smaller Gram matrix (Float64), σ = √max(λ, 0);
/// q = (σ + 1e-10)/Σ(σ + 1e-10); erank = exp(−Σ q log q).
public func effectiveRank(_ a: [Float], rows: Int, cols: Int) throws -> Double {
    precondition(a.count == rows * cols, "effectiveRank: \(a.count) values for [\(rows), \(cols)]")
    let gram = Matrix(rows: rows, cols: cols, data: a.map(Double.init)).gram(rowSide: rows <= cols)
    let shifted = try symmetricEigenvalues(gram).map { max($0, 0).squareRoot() + 1e-10 }
    let total = shifted.reduce(0, +)
    var entropy = 0.0
    for s in shifted {
        let q = s / total
        entropy -= q * log(q)
    }
    return exp(entropy)
}
