import Foundation
import Testing
@testable import Lab

@Suite struct DistancesTests {
    @Test func normalizedRows() {
        let x = Tensor(rows: [[3, 4], [0, 0], [-1, 0]])
        let y = Distances.l2NormalizedRows(x)
        #expect(y.data == [0.6, 0.8, 0, 0, -1, 0])                  // a zero row stays zero
        let norms = Distances.rowNorms(y)
        #expect(abs(norms[0] - 1) < 1e-7 && norms[1] == 0 && norms[2] == 1)
    }

    @Test func pairwiseDistancesMatchBruteForce() {
        var rng = RNG(seed: 7)
        let a = Tensor.randn([5, 3], rng: &rng), b = Tensor.randn([4, 3], rng: &rng)
        let d = Distances.pairwiseSquaredEuclidean(a, b)
        #expect(d.shape == [5, 4])
        for n in 0..<5 {
            for m in 0..<4 {
                let exact = (0..<3).reduce(0.0) { sum, j in
                    let diff = Double(a.data[n * 3 + j]) - Double(b.data[m * 3 + j])
                    return sum + diff * diff
                }
                #expect(abs(Double(d.data[n * 4 + m]) - exact) < 1e-5)
            }
        }
        #expect(Distances.pairwiseSquaredEuclidean(a, a).data.enumerated().allSatisfy { $0.offset % 6 != 0 || $0.element < 1e-5 })
    }

    @Test func nearestRowPicksTheClosestAndTheFirstOnTies() {
        let points = Tensor(rows: [[0.9, 0.1], [-1, 0], [0, 0]])
        let centres = Tensor(rows: [[1, 0], [-1, 0], [1, 0]])
        // (0, 0) is as far from every centre: the lowest index wins.
        #expect(Distances.nearestRow(points, among: centres) == [0, 1, 0])
    }
}
