import Testing
@testable import Lab

private let densities: [Double] = [1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0 / 2, 0.9]

/// Non-zeros of each row and of each column of a rank-2 tensor.
private func rowAndColumnCounts(_ t: Tensor) -> (rows: [Int], columns: [Int]) {
    let r = t.shape[0], c = t.shape[1]
    var rows = [Int](repeating: 0, count: r), columns = [Int](repeating: 0, count: c)
    for i in 0..<r { for j in 0..<c where t.data[i * c + j] != 0 { rows[i] += 1; columns[j] += 1 } }
    return (rows, columns)
}

/// The centre slice [:, :, k/2, k/2] of a conv kernel as a [cOut, cIn] tensor.
private func centre(_ kernel: Tensor) -> Tensor {
    let cOut = kernel.shape[0], cIn = kernel.shape[1], kH = kernel.shape[2], kW = kernel.shape[3]
    let offset = (kH / 2) * kW + kW / 2
    return Tensor(shape: [cOut, cIn], data: (0..<(cOut * cIn)).map { kernel.data[$0 * kH * kW + offset] })
}

/// ¼‖W·Wᵀ − σ²·I‖²_F on the short side, the loss AI descends.
private func isometryLoss(_ weight: Tensor, gain: Double) throws -> Double {
    let w = try Matrix(weight)
    let g = w.gram(rowSide: w.rows <= w.cols)
    var loss = 0.0
    for i in 0..<g.rows { for j in 0..<g.cols { let e = g[i, j] - (i == j ? gain * gain : 0); loss += e * e } }
    return loss / 4
}

@Suite struct SparseInitTests {
    @Test(arguments: [(64, 64), (128, 128), (128, 784), (10, 128), (784, 128)])
    func eoiIsExactlyOrthogonalWithTheTargetDensity(outputs: Int, inputs: Int) throws {
        var rng = RNG(seed: 1)
        let m = max(outputs, inputs)
        for d in densities {
            let gain = 1.0247
            let layer = try SparseInit.exactOrthogonal([outputs, inputs], density: d, gain: gain, rng: &rng)
            #expect(layer.weight.shape == [outputs, inputs])
            // Measured in Float64 from the stored Float32 weights.
            let e = try orthogonalityError(layer.weight, gain: gain)
            #expect(e <= 1e-5, "n_out \(outputs) n_in \(inputs) d \(d): e = \(e)")
            let achieved = nonZeroDensity(layer.weight)
            if d >= 1 / Double(m) {
                #expect(abs(achieved - d) <= max(0.02, 2 / Double(m)), "n_out \(outputs) n_in \(inputs) d \(d): density \(achieved)")
            }
            // The mask is the non-zero pattern.
            #expect(zip(layer.weight.data, layer.mask.data).allSatisfy { ($0 != 0) == ($1 == 1) })
        }
    }

    @Test func eoiDensityTraceIsMonotoneAndTheStopRuleKeepsTheCloserIterate() throws {
        var rng = RNG(seed: 3)
        for (outputs, inputs) in [(64, 64), (128, 784), (10, 128)] {
            for d in densities {
                let eoi = try SparseInit.exactOrthogonalMatrix(outputs: outputs, inputs: inputs, density: d,
                                                               recordTrace: true, rng: &rng)
                let trace = eoi.densityTrace
                #expect(zip(trace, trace.dropFirst()).allSatisfy { $0 <= $1 })
                #expect(trace.first == 1 / Double(max(outputs, inputs)))
                // Stopped at the first iterate >= d; returned it or the previous one, whichever is closer.
                #expect(trace.last! >= d && trace.dropLast().allSatisfy { $0 < d })
                #expect(eoi.density == trace[eoi.rotations])
                let last = trace.count - 1
                let closer = (d - trace[last - 1] < trace[last] - d) ? last - 1 : last
                #expect(eoi.rotations == closer)
                #expect(eoi.matrix.orthogonalityError() < 1e-12)
            }
        }
    }

    @Test func eoiBelowTheReachableDensityReturnsTheStart() throws {
        var rng = RNG(seed: 0)
        let eoi = try SparseInit.exactOrthogonalMatrix(outputs: 128, inputs: 10, density: 1.0 / 200, rng: &rng)
        #expect(eoi.rotations == 0 && eoi.matrix.rows == 128 && eoi.matrix.cols == 10)
        // Aᵀ = [I_10 | 0]ᵀ for n_out > n_in.
        for i in 0..<128 { for j in 0..<10 { #expect(eoi.matrix[i, j] == (i == j ? 1 : 0)) } }
        #expect(throws: LabError.self) { try SparseInit.exactOrthogonalMatrix(outputs: 4, inputs: 4, density: 0, rng: &rng) }
        #expect(throws: LabError.self) { try SparseInit.exactOrthogonal([4, 4], density: 1.5, rng: &rng) }
    }

    @Test func convEoiIsDeltaOrthogonalWithAFilledMask() throws {
        var rng = RNG(seed: 4)
        for d in [1.0 / 16, 1.0 / 4, 1.0 / 2] {
            let shape = [32, 32, 3, 3], total = 32 * 32 * 9
            let gain = 1.0247
            let layer = try SparseInit.exactOrthogonal(shape, density: d, gain: gain, rng: &rng)
            #expect(try orthogonalityError(centre(layer.weight), gain: gain) <= 1e-5)
            // Everything off the centre is 0 at init, and every non-zero is in the mask.
            for k in 0..<total where k % 9 != 4 { #expect(layer.weight.data[k] == 0) }
            #expect(zip(layer.weight.data, layer.mask.data).allSatisfy { $0 == 0 || $1 == 1 })
            #expect(abs(layer.density - d) <= 1 / Double(total))
            #expect(abs(nonZeroDensity(centre(layer.weight)) - d) <= 0.02)
        }
        // Rectangular channels (c_out < c_in) keep orthonormal rows at the centre.
        let wide = try SparseInit.exactOrthogonal([8, 16, 3, 3], density: 0.25, rng: &rng)
        #expect(try orthogonalityError(centre(wide.weight)) <= 1e-5)
    }

    @Test func saoStyleHasDegreeCAndIsOrthogonal() throws {
        var rng = RNG(seed: 5)
        for d in [1.0 / 32, 1.0 / 8, 1.0 / 2, 1] {
            let layer = try SparseInit.saoStyle([128, 128], density: d, gain: 2, rng: &rng)
            let c = Int(d * 128)
            #expect(try orthogonalityError(layer.weight, gain: 2) <= 1e-5)
            let counts = rowAndColumnCounts(layer.weight)
            #expect(counts.rows.allSatisfy { $0 == c } && counts.columns.allSatisfy { $0 == c })
        }
        let conv = try SparseInit.saoStyle([32, 32, 3, 3], density: 1.0 / 4, rng: &rng)
        #expect(try orthogonalityError(centre(conv.weight)) <= 1e-5)
        #expect(abs(conv.density - 0.25) <= 1.0 / (32 * 32 * 9))
        #expect(throws: LabError.self) { try SparseInit.saoStyle([128, 64], density: 0.5, rng: &rng) }
        #expect(throws: LabError.self) { try SparseInit.saoStyle([96, 96], density: 1.0 / 64, rng: &rng) }
    }

    @Test func baseMasksHaveExactlyRoundDNMOnes() throws {
        var rng = RNG(seed: 6)
        for (shape, d) in [([128, 128], 1.0 / 32), ([64, 64], 0.3), ([10, 128], 0.9), ([32, 32, 3, 3], 1.0 / 16)] {
            let count = shape.reduce(1, *)
            let expected = Int((d * Double(count)).rounded())
            var orthRNG = rng.derived("same"), standardRNG = rng.derived("same")
            let orth = try SparseInit.baseOrthogonal(shape, density: d, rng: &orthRNG)
            let standard = try SparseInit.baseStandard(shape, density: d, gain: 1.0247, rng: &standardRNG)
            #expect(orth.mask.data.reduce(0, +) == Float(expected))
            #expect(orth.mask.data.allSatisfy { $0 == 0 || $0 == 1 })
            #expect(standard.mask.data == orth.mask.data)
            #expect(zip(orth.weight.data, orth.mask.data).allSatisfy { $1 == 1 || $0 == 0 })
            #expect(zip(standard.weight.data, standard.mask.data).allSatisfy { ($1 == 1) == ($0 != 0) })
            _ = rng.next()
        }
        // Base-standard's variance is gain² / (d·fanIn) on the mask.
        let big = try SparseInit.baseStandard([256, 256], density: 0.25, gain: 2, rng: &rng)
        let values = zip(big.weight.data, big.mask.data).filter { $1 == 1 }.map { Double($0.0) }
        let variance = values.reduce(0) { $0 + $1 * $1 } / Double(values.count)
        #expect(abs(variance / (4.0 / (0.25 * 256)) - 1) < 0.05)
    }

    @Test func haarAndDeltaOrthogonal() throws {
        var rng = RNG(seed: 7)
        for shape in [[64, 64], [128, 784], [784, 128], [10, 128]] {
            let w = try Init.haarOrthogonal(shape, gain: 1.5, rng: &rng)
            #expect(w.shape == shape)
            #expect(try orthogonalityError(w, gain: 1.5) <= 1e-5)
        }
        let kernel = try Init.deltaOrthogonal([16, 8, 3, 3], rng: &rng)
        #expect(try orthogonalityError(centre(kernel)) <= 1e-5)
        #expect(kernel.data.enumerated().allSatisfy { $0.offset % 9 == 4 || $0.element == 0 })
        // Haar, not just orthogonal: the sign fix makes E[W] = 0 entrywise; a 1x1 "matrix" is ±1 with equal odds.
        var plus = 0
        for _ in 0..<400 where try Init.haarOrthogonal([1, 1], rng: &rng).data[0] > 0 { plus += 1 }
        #expect(plus > 160 && plus < 240)
    }

    @Test func approximateIsometryImprovesBaseAndKeepsTheMask() throws {
        var rng = RNG(seed: 8)
        for shape in [[64, 64], [16, 16, 3, 3], [32, 16]] {
            var startRNG = rng.derived("ai"), aiRNG = rng.derived("ai")
            let start = try SparseInit.baseOrthogonal(shape, density: 0.25, gain: 1.0247, rng: &startRNG)
            let ai = try SparseInit.approximateIsometry(shape, density: 0.25, gain: 1.0247, steps: 200, rng: &aiRNG)
            #expect(ai.mask.data == start.mask.data)
            #expect(zip(ai.weight.data, ai.mask.data).allSatisfy { $1 == 1 || $0 == 0 })
            let before = try isometryLoss(start.weight, gain: 1.0247)
            let after = try isometryLoss(ai.weight, gain: 1.0247)
            #expect(after < 0.5 * before, "shape \(shape): \(before) -> \(after)")
        }
    }

    @Test func denseInitialisersFollowTheirFormulas() throws {
        var rng = RNG(seed: 10)
        // PyTorch's Linear default: U(−1/√fanIn, 1/√fanIn).
        let w = try Init.kaimingUniform([256, 400], rng: &rng)
        #expect(w.data.allSatisfy { abs($0) <= Float(1 / 20.0) })
        #expect(w.data.map { abs($0) }.max()! > Float(0.99 / 20.0))
        let conv = try Init.kaimingNormal([64, 16, 3, 3], gain: Init.leakyReLUGain(negativeSlope: 0), rng: &rng)
        let variance = conv.data.reduce(0) { $0 + Double($1 * $1) } / Double(conv.count)
        #expect(abs(variance / (2.0 / 144) - 1) < 0.05)
        let x = try Init.xavierUniform([100, 300], rng: &rng)
        #expect(x.data.allSatisfy { abs($0) <= Float((6.0 / 400).squareRoot()) })
        let xn = try Init.xavierNormal([200, 300], gain: 2, rng: &rng)
        let xVariance = xn.data.reduce(0) { $0 + Double($1 * $1) } / Double(xn.count)
        #expect(abs(xVariance / (4 * 2.0 / 500) - 1) < 0.05)
        #expect(Init.constant([2, 3], value: 0.5).data == [Float](repeating: 0.5, count: 6))
        #expect(throws: LabError.self) { try Init.kaimingUniform([5], rng: &rng) }
    }

    @Test func sameSeedSameMatrices() throws {
        func draw(_ seed: UInt64) throws -> [[Float]] {
            var rng = RNG(seed: seed)
            return [try SparseInit.exactOrthogonal([64, 64], density: 0.25, rng: &rng).weight.data,
                    try SparseInit.exactOrthogonal([32, 32, 3, 3], density: 0.25, rng: &rng).mask.data,
                    try SparseInit.saoStyle([64, 64], density: 0.25, rng: &rng).weight.data,
                    try SparseInit.baseOrthogonal([64, 64], density: 0.25, rng: &rng).weight.data,
                    try SparseInit.baseStandard([64, 64], density: 0.25, rng: &rng).weight.data,
                    try Init.haarOrthogonal([64, 32], rng: &rng).data]
        }
        #expect(try draw(42) == draw(42))
        #expect(try draw(42)[0] != draw(43)[0])
    }
}
