import ExactOrthogonalInitCore
import Lab
import LabRun

/// E1: the EOI generator on one shape and density (the Float32 weight, as a layer stores it).
struct GeneratorRow: Sendable {
    let outputs: Int, inputs: Int, density: Double
    let achievedDensity: Double
    let rotations: Int
    /// max |W·Wᵀ − I| on the short side, Float64 from the stored Float32 weights.
    let orthogonalityError: Double
    /// Places where the per-rotation density trace decreases.
    let densityDecreases: Int
    let seconds: Double
    /// Density after each rotation (kept for the 128 x 128 panel of the figure).
    let trace: [Double]
    var longSide: Int { max(outputs, inputs) }
}

/// E1: SAO-style on one square size and density.
struct SAORow: Sendable {
    let side: Int, density: Double
    let orthogonalityError: Double
    /// Rows and columns whose non-zero count differs from c = d·n.
    let degreeErrors: Int
    let seconds: Double
}

/// E1: the dense Haar orthogonal init (Householder QR of a Gaussian) on one shape.
struct DenseQRRow: Sendable {
    let outputs: Int, inputs: Int
    let seconds: Double
}

struct GeneratorStudy: Sendable {
    let eoi: [GeneratorRow]
    let sao: [SAORow]
    let dense: [DenseQRRow]
}

/// Runs E1: EOI on every square side and rectangle at every density, SAO-style on the square sides at the
/// power-of-two densities, and dense QR on every shape; each timed as the best of `timingRepeats` runs
/// with the same seed, single-threaded.
func generatorStudy(_ plan: Plan, quiet: Bool, rng: RNG) throws -> GeneratorStudy {
    let shapes = plan.generatorSides.map { ($0, $0) } + plan.generatorRectangles
    let repeats = plan.timingRepeats
    var eoiJobs: [@Sendable () throws -> GeneratorRow] = []
    for (outputs, inputs) in shapes {
        for density in plan.generatorDensities {
            let seedRNG = rng.derived("E1/eoi/\(outputs)x\(inputs)/\(density)")
            eoiJobs.append {
                var traced = seedRNG
                let result = try SparseInit.exactOrthogonalMatrix(outputs: outputs, inputs: inputs, density: density,
                                                                  recordTrace: true, rng: &traced)
                let stored = result.matrix.tensor()
                let seconds = try bestTime(repeats: repeats) {
                    var timed = seedRNG
                    _ = try SparseInit.exactOrthogonal([outputs, inputs], density: density, gain: 1, rng: &timed)
                }
                return GeneratorRow(outputs: outputs, inputs: inputs, density: density,
                                    achievedDensity: nonZeroDensity(stored), rotations: result.rotations,
                                    orthogonalityError: try orthogonalityError(stored),
                                    densityDecreases: decreaseCount(result.densityTrace), seconds: seconds,
                                    trace: outputs == 128 && inputs == 128 ? result.densityTrace : [])
            }
        }
    }
    var saoJobs: [@Sendable () throws -> SAORow] = []
    for side in plan.generatorSides {
        for density in plan.generatorDensities {
            let degree = density * Double(side)
            guard degree == degree.rounded(), side % Int(degree) == 0 else { continue }
            let seedRNG = rng.derived("E1/sao/\(side)/\(density)")
            saoJobs.append {
                var first = seedRNG
                let layer = try SparseInit.saoStyle([side, side], density: density, gain: 1, rng: &first)
                let seconds = try bestTime(repeats: repeats) {
                    var timed = seedRNG
                    _ = try SparseInit.saoStyle([side, side], density: density, gain: 1, rng: &timed)
                }
                return SAORow(side: side, density: density, orthogonalityError: try orthogonalityError(layer.weight),
                              degreeErrors: degreeErrors(layer.weight, degree: Int(degree)), seconds: seconds)
            }
        }
    }
    let denseJobs: [@Sendable () throws -> DenseQRRow] = shapes.map { outputs, inputs in
        let seedRNG = rng.derived("E1/qr/\(outputs)x\(inputs)")
        return {
            let seconds = try bestTime(repeats: repeats) {
                var timed = seedRNG
                _ = try Init.haarOrthogonal([outputs, inputs], rng: &timed)
            }
            return DenseQRRow(outputs: outputs, inputs: inputs, seconds: seconds)
        }
    }
    return GeneratorStudy(eoi: try pooled("E1: EOI", quiet: quiet, eoiJobs), sao: try pooled("E1: SAO-style", quiet: quiet, saoJobs), dense: try pooled("E1: dense QR", quiet: quiet, denseJobs))
}
