import Foundation
import Lab

/// The 9 conditioning variables of one ZDC event, as in the paper: energy (GeV), primary vertex (Vx, Vy,
/// Vz), momentum (Px, Py, Pz, GeV), mass (GeV) and charge.
public struct ParticleCondition: Sendable, Equatable {
    public var energy, vx, vy, vz, px, py, pz, mass, charge: Double

    public init(energy: Double, vx: Double, vy: Double, vz: Double, px: Double, py: Double, pz: Double,
                mass: Double, charge: Double) {
        (self.energy, self.vx, self.vy, self.vz) = (energy, vx, vy, vz)
        (self.px, self.py, self.pz, self.mass, self.charge) = (px, py, pz, mass, charge)
    }

    /// (E, Vx, Vy, Vz, Px, Py, Pz, mass, charge), the generator's condition vector before standardisation.
    public var vector: [Double] { [energy, vx, vy, vz, px, py, pz, mass, charge] }

    /// |p| = √(Px² + Py² + Pz²).
    public var momentum: Double { (px * px + py * py + pz * pz).squareRoot() }

    /// A photon (massless, neutral) starts an electromagnetic shower; everything else a hadronic one.
    public var isPhoton: Bool { mass == 0 && charge == 0 }
}

/// The response class of an event, from the distance δ of its impact point to the nearest face edge.
public enum Regime: Int, Sendable, CaseIterable, Comparable {
    /// δ < −5: the particle misses the face (a few border photons and dark counts).
    case miss = 0
    /// −5 ≤ δ < 3: the shower is cut by the face edge.
    case edge = 1
    /// δ ≥ 3: the shower is contained.
    case contained = 2

    public var name: String { ["miss (low)", "edge (medium)", "contained (high)"][rawValue] }
    public static func < (a: Regime, b: Regime) -> Bool { a.rawValue < b.rawValue }
}

/// Our parametric Monte-Carlo model of the ALICE Zero Degree Calorimeter: the stand-in for Geant4 (docs/papers/expertsim.md
/// §3.1). A 56 x 30 face of quartz fibres at pitch 1; a shower is simulated photon by photon, so the cost
/// of an event grows with its energy as a real Monte Carlo's does.
///
///     var rng = RNG(seed: 1)
///     let c = ZDCSimulator.sampleCondition(rng: &rng)
///     let image = ZDCSimulator.simulate(c, rng: &rng)      // 56·30 photon counts, row-major
public enum ZDCSimulator {
    public static let height = 56
    public static let width = 30
    public static let pixels = height * width

    /// Photons produced per visible GeV.
    public static let photonYield = 1000.0
    /// Capture probabilities of the two fibre colours of the checkerboard: A = (row + col) even, B = odd.
    public static let captureA = 0.0036, captureB = 0.0030
    /// Mean dark counts per pixel.
    public static let darkCountRate = 0.003

    /// Particle types: (probability, mass GeV, charge): proton, neutron, π+, π−, γ.
    public static let particleTypes: [(probability: Double, mass: Double, charge: Double)] = [
        (0.5, 0.938, 1), (0.2, 0.940, 0), (0.10, 0.1396, 1), (0.10, 0.1396, -1), (0.10, 0, 0),
    ]

    /// Draws a condition: type by `particleTypes`, E log-uniform on [20, 2000] GeV, Vx, Vy ~ N(0, 0.5),
    /// Vz ~ N(0, 5), angles θx, θy ~ N(0, 0.6) mrad; p = √(E² − m²), Px = p·θx·1e-3, Py = p·θy·1e-3,
    /// Pz = √(p² − Px² − Py²).
    public static func sampleCondition(rng: inout RNG) -> ParticleCondition {
        let type = particleTypes[rng.categorical(particleTypes.map(\.probability))]
        let energy = exp(rng.uniform(log(20), log(2000)))
        let vx = rng.normal(mean: 0, std: 0.5), vy = rng.normal(mean: 0, std: 0.5), vz = rng.normal(mean: 0, std: 5)
        let thetaX = rng.normal(mean: 0, std: 0.6), thetaY = rng.normal(mean: 0, std: 0.6)
        let p = (energy * energy - type.mass * type.mass).squareRoot()
        let px = p * thetaX * 1e-3, py = p * thetaY * 1e-3
        let pz = (p * p - px * px - py * py).squareRoot()
        return ParticleCondition(energy: energy, vx: vx, vy: vy, vz: vz, px: px, py: py, pz: pz,
                                 mass: type.mass, charge: type.charge)
    }

    /// Impact point on the face in pixels: x0 = 15 + 12·θx + 3·Vx + 12·q·ln(p/300),
    /// y0 = 28 + 12·θy + 3·Vy + 0.1·Vz, with θ = P⊥/p in mrad. Charged particles bend ∝ q·ln p, so soft or
    /// very hard ones miss the face.
    public static func impactPoint(_ c: ParticleCondition) -> (x: Double, y: Double) {
        let p = c.momentum
        let thetaX = c.px / p * 1e3, thetaY = c.py / p * 1e3
        let x0 = 15 + 12 * thetaX + 3 * c.vx + 12 * c.charge * log(p / 300)
        let y0 = 28 + 12 * thetaY + 3 * c.vy + 0.1 * c.vz
        return (x0, y0)
    }

    /// δ = min(x0, 30 − x0, y0, 56 − y0): positive inside the face, negative outside.
    public static func edgeDistance(_ c: ParticleCondition) -> Double {
        let (x0, y0) = impactPoint(c)
        return min(x0, Double(width) - x0, y0, Double(height) - y0)
    }

    /// contained δ ≥ 3, edge −5 ≤ δ < 3, miss δ < −5.
    public static func regime(_ c: ParticleCondition) -> Regime {
        let delta = edgeDistance(c)
        if delta >= 3 { return .contained }
        if delta >= -5 { return .edge }
        return .miss
    }

    /// Simulates one event into `image` (56·30 photon counts, row-major; overwritten).
    ///
    /// 1. Visible fraction f ~ Beta(6, 2) (hadrons) or Beta(20, 2) (photons); hadron punch-through: with
    ///    probability 0.1, f ·= U(0.1, 0.5).
    /// 2. Clusters: hadrons get Poisson(1.5) sub-clusters at (x0, y0) + N(0, 3²) per axis; shares ~
    ///    Dirichlet(2, ..., 2) with the core's share doubled, renormalised.
    /// 3. Per cluster Poisson(Y·E·f·share) photons, each in the core (probability 0.7, σ = 1.0 px; photons
    ///    0.7) or the halo (σ = 4.0; photons 2.5); lost outside the face; captured with probability 0.0036
    ///    (colour A) or 0.0030 (colour B).
    /// 4. A miss (δ < −5) makes no shower but Poisson(0.01·E) photons uniform on the 3-pixel border strip
    ///    nearest the impact point.
    /// 5. Poisson(0.003) dark counts per pixel.
    public static func simulate(_ c: ParticleCondition, rng: inout RNG, into image: UnsafeMutableBufferPointer<Float>) {
        precondition(image.count == pixels, "ZDCSimulator.simulate: buffer of \(image.count) values, need \(pixels)")
        for i in 0..<pixels { image[i] = 0 }
        let (x0, y0) = impactPoint(c)
        if regime(c) == .miss {
            depositBorderPhotons(count: rng.poisson(0.01 * c.energy), x0: x0, y0: y0, rng: &rng, into: image)
        } else {
            simulateShower(c, x0: x0, y0: y0, rng: &rng, into: image)
        }
        for i in 0..<pixels { image[i] += Float(rng.poisson(darkCountRate)) }
    }

    /// `simulate(_:rng:into:)` into a new array.
    public static func simulate(_ c: ParticleCondition, rng: inout RNG) -> [Float] {
        var image = [Float](repeating: 0, count: pixels)
        image.withUnsafeMutableBufferPointer { simulate(c, rng: &rng, into: $0) }
        return image
    }

    /// One shower cluster: its centre (pixels), the mean number of photons it produces, and the core and halo
    /// widths of its photons.
    struct Cluster {
        let x: Double, y: Double
        let meanProduced: Double
        let coreSigma: Double, haloSigma: Double
    }

    /// Steps 1-2 of the shower: visible fraction f (Beta(6, 2) hadrons, Beta(20, 2) photons; hadron
    /// punch-through f ·= U(0.1, 0.5) with probability 0.1) and the clusters (hadrons: Poisson(1.5)
    /// sub-clusters at (x0, y0) + N(0, 3²), Dirichlet(2, ..., 2) shares with the core's doubled), each producing
    /// Poisson(Y·E·f·share) photons on average.
    static func showerClusters(_ c: ParticleCondition, x0: Double, y0: Double, rng: inout RNG) -> [Cluster] {
        let photon = c.isPhoton
        var visible = photon ? rng.beta(20, 2) : rng.beta(6, 2)
        if !photon && rng.bernoulli(0.1) { visible *= rng.uniform(0.1, 0.5) }

        var centres = [(x: x0, y: y0)]
        var shares = [1.0]
        if !photon {
            let subClusters = rng.poisson(1.5)
            for _ in 0..<subClusters { centres.append((x0 + 3 * rng.normal(), y0 + 3 * rng.normal())) }
            var dirichlet = rng.dirichlet([Double](repeating: 2, count: 1 + subClusters))
            dirichlet[0] *= 2
            let total = dirichlet.reduce(0, +)
            shares = dirichlet.map { $0 / total }
        }
        let coreSigma = photon ? 0.7 : 1.0, haloSigma = photon ? 2.5 : 4.0
        return zip(centres, shares).map { centre, share in
            Cluster(x: centre.x, y: centre.y, meanProduced: photonYield * c.energy * visible * share,
                    coreSigma: coreSigma, haloSigma: haloSigma)
        }
    }

    private static func simulateShower(_ c: ParticleCondition, x0: Double, y0: Double, rng: inout RNG,
                                       into image: UnsafeMutableBufferPointer<Float>) {
        let (w, h) = (Double(width), Double(height))
        for cluster in showerClusters(c, x0: x0, y0: y0, rng: &rng) {
            let produced = rng.poisson(cluster.meanProduced)
            // The photon loop: one 2-D Gaussian draw (Marsaglia's polar method gives an independent normal
            // pair), a face test and a capture test per photon.
            for _ in 0..<produced {
                let sigma = rng.uniform() < 0.7 ? cluster.coreSigma : cluster.haloSigma
                var u = 0.0, v = 0.0, s = 0.0
                repeat {
                    u = 2 * rng.uniform() - 1
                    v = 2 * rng.uniform() - 1
                    s = u * u + v * v
                } while s >= 1 || s == 0
                let scale = sigma * (-2 * log(s) / s).squareRoot()
                let x = cluster.x + scale * u, y = cluster.y + scale * v
                guard x >= 0, x < w, y >= 0, y < h else { continue }
                let (column, row) = (Int(x), Int(y))
                let capture = (row + column) & 1 == 0 ? captureA : captureB
                if rng.uniform() < capture { image[row * width + column] += 1 }
            }
        }
    }

    /// The photon sum of one event without the photon loop: an independent, count-only reading of the same
    /// design, used to say what the design's parameters imply for the photon sums (REPORT.md, sim-heterogeneous).
    /// A Poisson(λ) number of photons each detected with probability q gives Poisson(λ·q) detected photons; for
    /// a cluster q = c̄·(0.7·P_face(σ_core) + 0.3·P_face(σ_halo)), with c̄ = (0.0036 + 0.0030)/2 (the
    /// checkerboard's mean capture) and P_face(σ) = the 2-D Gaussian's mass on [0, 30) x [0, 56). Misses give
    /// Poisson(0.01·E) border photons; every event adds Poisson(0.003·1680) dark counts.
    public static func countOnlyPhotonSum(_ c: ParticleCondition, rng: inout RNG) -> Int {
        let (x0, y0) = impactPoint(c)
        var sum = rng.poisson(darkCountRate * Double(pixels))
        if regime(c) == .miss { return sum + rng.poisson(0.01 * c.energy) }
        let meanCapture = (captureA + captureB) / 2
        for cluster in showerClusters(c, x0: x0, y0: y0, rng: &rng) {
            let onFace = 0.7 * faceProbability(x: cluster.x, y: cluster.y, sigma: cluster.coreSigma)
                + 0.3 * faceProbability(x: cluster.x, y: cluster.y, sigma: cluster.haloSigma)
            sum += rng.poisson(cluster.meanProduced * meanCapture * onFace)
        }
        return sum
    }

    /// P(x ∈ [0, 30), y ∈ [0, 56)) for a 2-D Gaussian of width σ centred at (x, y): Φ((30 − x)/σ) − Φ(−x/σ)
    /// times Φ((56 − y)/σ) − Φ(−y/σ).
    static func faceProbability(x: Double, y: Double, sigma: Double) -> Double {
        let phi = { (t: Double) in 0.5 * erfc(-t / 2.0.squareRoot()) }
        return (phi((Double(width) - x) / sigma) - phi(-x / sigma)) * (phi((Double(height) - y) / sigma) - phi(-y / sigma))
    }

    /// Photons uniform on the 3-pixel strip along the face edge nearest the impact point.
    private static func depositBorderPhotons(count: Int, x0: Double, y0: Double, rng: inout RNG,
                                             into image: UnsafeMutableBufferPointer<Float>) {
        // The side the impact point lies furthest beyond is the nearest edge strip.
        let overshoot = [-x0, x0 - Double(width), -y0, y0 - Double(height)]
        let side = overshoot.indices.max { overshoot[$0] < overshoot[$1] }!
        for _ in 0..<count {
            let (row, column): (Int, Int)
            switch side {
            case 0: (row, column) = (rng.int(below: height), rng.int(below: 3))
            case 1: (row, column) = (rng.int(below: height), width - 1 - rng.int(below: 3))
            case 2: (row, column) = (rng.int(below: 3), rng.int(below: width))
            default: (row, column) = (height - 1 - rng.int(below: 3), rng.int(below: width))
            }
            image[row * width + column] += 1
        }
    }
}
