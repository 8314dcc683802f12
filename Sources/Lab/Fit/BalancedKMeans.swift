import Foundation

/// Balanced k-means (as used by MoEfication, Zhang et al. 2022, arXiv 2110.01786, to split FFN neurons into
/// equal experts; docs/papers/dynamic-k-moe.md §3): n points of dimension `dimension` (rows of `points`, [n·dimension]
/// row-major) into `clusters` clusters of exactly n/clusters points each.
///
/// Initialisation: k-means++ (Arthur & Vassilvitskii 2007): the first centroid is a uniformly drawn point, each
/// next one a point drawn with probability ∝ its squared distance to the nearest chosen centroid. Then
/// `iterations` Lloyd rounds with the balanced assignment of `balancedAssignment` and centroids = member means.
/// Returns the members of each cluster, ascending.
public func balancedKMeans(points: [Float], dimension: Int, clusters: Int, iterations: Int, rng: inout RNG) -> [[Int]] {
    let n = points.count / max(dimension, 1)
    precondition(dimension > 0 && points.count == n * dimension, "balancedKMeans: \(points.count) values are not rows of \(dimension)")
    precondition(clusters > 0 && n % clusters == 0, "balancedKMeans: \(n) points do not split into \(clusters) equal clusters")
    let x = Tensor(shape: [n, dimension], data: points)
    let pointSquares = (0..<n).map { i in (0..<dimension).reduce(Float(0)) { $0 + points[i * dimension + $1] * points[i * dimension + $1] } }
    // k-means++ seeding.
    var chosen = [rng.int(below: n)]
    var nearest = [Double](repeating: .infinity, count: n)
    while chosen.count < clusters {
        let last = chosen[chosen.count - 1]
        for i in 0..<n {
            var d = 0.0
            for j in 0..<dimension { let v = Double(points[i * dimension + j] - points[last * dimension + j]); d += v * v }
            nearest[i] = min(nearest[i], d)
        }
        let total = nearest.reduce(0, +)
        var draw = rng.uniform() * total, pick = n - 1
        if total > 0 {
            for i in 0..<n { draw -= nearest[i]; if draw < 0 && nearest[i] > 0 { pick = i; break } }
        } else {
            pick = (0..<n).first { !chosen.contains($0) }!
        }
        chosen.append(pick)
    }
    var centroids = chosen.flatMap { Array(points[$0 * dimension..<($0 + 1) * dimension]) }
    var assignment = [Int](repeating: 0, count: n)
    for _ in 0..<max(iterations, 1) {
        // Squared distances ‖x_i‖² + ‖c_k‖² − 2 x_i·c_k, [n, clusters].
        let c = Tensor(shape: [clusters, dimension], data: centroids)
        let products = noGrad { x.matmul(c, transposeB: true) }.data
        var distances = [Float](repeating: 0, count: n * clusters)
        for k in 0..<clusters {
            var square: Float = 0
            for j in 0..<dimension { square += centroids[k * dimension + j] * centroids[k * dimension + j] }
            for i in 0..<n { distances[i * clusters + k] = max(pointSquares[i] + square - 2 * products[i * clusters + k], 0) }
        }
        assignment = balancedAssignment(distances: distances, points: n, clusters: clusters, capacity: n / clusters)
        centroids = [Float](repeating: 0, count: clusters * dimension)
        for i in 0..<n { for j in 0..<dimension { centroids[assignment[i] * dimension + j] += points[i * dimension + j] } }
        let size = Float(n / clusters)
        for k in centroids.indices { centroids[k] /= size }
    }
    var members = [[Int]](repeating: [], count: clusters)
    for i in 0..<n { members[assignment[i]].append(i) }
    return members
}

/// Greedy capacity-constrained assignment: every (point, cluster) pair in ascending order of its distance
/// (`distances`, [points·clusters] row-major; ties by point, then cluster), a point is assigned to the pair's
/// cluster while the point is unassigned and the cluster has fewer than `capacity` members.
/// Requires points ≤ clusters·capacity. Returns the cluster of each point.
public func balancedAssignment(distances: [Float], points: Int, clusters: Int, capacity: Int) -> [Int] {
    precondition(distances.count == points * clusters && points <= clusters * capacity && points * clusters <= Int(UInt32.max),
                 "balancedAssignment: \(distances.count) distances for \(points) points × \(clusters) clusters of capacity \(capacity)")
    // Non-negative floats order like their bit patterns: one UInt64 key per pair, distance bits above the pair index.
    let keys = distances.enumerated().map { pair, d in (UInt64(max(d, 0).bitPattern) << 32) | UInt64(pair) }.sorted()
    var assignment = [Int](repeating: -1, count: points)
    var sizes = [Int](repeating: 0, count: clusters)
    var assigned = 0
    for key in keys where assigned < points {
        let pair = Int(key & 0xffff_ffff)
        let (i, k) = (pair / clusters, pair % clusters)
        guard assignment[i] < 0 && sizes[k] < capacity else { continue }
        assignment[i] = k; sizes[k] += 1; assigned += 1
    }
    return assignment
}
