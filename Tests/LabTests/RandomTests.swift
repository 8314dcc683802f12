import Testing
@testable import Lab

@Suite struct RandomTests {
    @Test func sameSeedSameStream() {
        var a = RNG(seed: 42), b = RNG(seed: 42)
        for _ in 0..<100 { #expect(a.next() == b.next()) }
        var c = RNG(seed: 43)
        #expect(RNG(seed: 42).derived("x").seed != c.next())
    }

    @Test func derivedIgnoresConsumption() {
        var a = RNG(seed: 7)
        let d1 = a.derived("data")
        _ = a.next(); _ = a.normal()
        var d2 = a.derived("data"), d1m = d1
        #expect(d1m.next() == d2.next())
        #expect(a.derived("data").seed != a.derived("model").seed)
    }

    @Test func momentsAreRight() {
        var r = RNG(seed: 1)
        let n = 200_000
        var s = 0.0, s2 = 0.0, u = 0.0
        for _ in 0..<n { let x = r.normal(); s += x; s2 += x * x; u += r.uniform() }
        #expect(abs(s / Double(n)) < 0.01)
        #expect(abs(s2 / Double(n) - 1) < 0.02)
        #expect(abs(u / Double(n) - 0.5) < 0.005)
        var p = 0.0, g = 0.0, b = 0.0
        for _ in 0..<20_000 { p += Double(r.poisson(3.5)); g += r.gamma(shape: 2.5); b += r.beta(6, 2) }
        #expect(abs(p / 20_000 - 3.5) < 0.05)
        #expect(abs(g / 20_000 - 2.5) < 0.05)
        #expect(abs(b / 20_000 - 0.75) < 0.01)
    }

    @Test func permutationAndChoice() {
        var r = RNG(seed: 3)
        #expect(r.permutation(50).sorted() == Array(0..<50))
        let c = r.choice(10, count: 10)
        #expect(Set(c).count == 10)
    }
}
