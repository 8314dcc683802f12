import ActivationSparsityCore
import Foundation
import Lab

/// One sparsity sweep of one model and target: points ordered by decreasing p, dense first (s = 0, r = 1).
struct Curve {
    var model: String
    var target: SparsityTarget
    var rule: String
    /// The rule parameter of each point (nil for the dense point).
    var parameters: [Double?] = [nil]
    var sparsity: [Double] = [0]
    var relative: [Double] = [1]
    /// Sparsity of x and of the width-m tensor (all_inputs reports both).
    var inputSparsity: [Double] = [0]
    var intermediateSparsity: [Double] = [0]

    var critical: CriticalPoint { criticalSparsity(sparsity: sparsity, relative: relative) }

    mutating func append(parameter: Double, sparsity s: Double, relative r: Double, input sIn: Double, intermediate sInt: Double) {
        parameters.append(parameter); sparsity.append(s); relative.append(r)
        inputSparsity.append(sIn); intermediateSparsity.append(sInt)
    }

    /// FFN FLOP saving at the critical sparsity.
    var ffnSaving: Double {
        let c = critical
        return target.ffnFLOPSaving(inputSparsity: c.interpolate(inputSparsity), intermediateSparsity: c.interpolate(intermediateSparsity))
    }
}

/// The width-m tensor a target rewrites (gate, up or intermediate), for s_int.
func wideSparsity(_ counts: SparsityCounts, target: SparsityTarget) -> Double {
    switch target {
    case .input: return 0
    case .gate: return counts.sparsity(points: [.gate])
    case .up: return counts.sparsity(points: [.up])
    case .intermediate, .allInputs: return counts.sparsity(points: [.intermediate])
    }
}

/// Per-token matmul multiply-adds of a Llama-style decoder, and the FFN's share of them (attention scores at
/// an average context of `averageContext` keys).
func ffnShare(width d: Int, layers: Int, qkvWidth: Int, ffnWidth m: Int, vocabulary: Int, averageContext: Int) -> Double {
    let ffn = Double(3 * d * m)
    let perLayer = Double(d * qkvWidth + d * d) + ffn + Double(2 * averageContext * d)
    return Double(layers) * ffn / (Double(layers) * perLayer + Double(d * vocabulary))
}

/// User + system CPU seconds of this process so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// Rounds for tables.
func rounded(_ x: Double, _ digits: Int = 4) -> Double {
    let scale = pow(10, Double(digits))
    return (x * scale).rounded() / scale
}
