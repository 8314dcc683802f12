/// The analytic toy of docs/papers/early-exit-calibration.md §3 (≈ the paper's Fig. 1): 1,000 samples, an
/// internal classifier IC1 (cost 0.5) and a final exit (cost 1). The final exit is right on 900; IC1 on 700,
/// all of which the final exit also gets right: groups CC 700, WC 200 (IC1 wrong, final right), WW 100.
/// Four ways to give IC1 confidences:
public enum ToyCase: String, CaseIterable, Sendable {
    /// (a) 0.7 for every sample: perfectly calibrated, no ranking.
    case constant = "a"
    /// (b) group H (675 CC, 50 WC, 25 WW) 0.9, group L (25 CC, 150 WC, 75 WW) 0.1: calibrated, ranks.
    case calibratedRanking = "b"
    /// (c) the ranking of (b) with H 0.99, L 0.6: miscalibrated.
    case miscalibratedRanking = "c"
    /// (d) 0.99 on CC, 0.6 on WC and WW: miscalibrated, perfect ranking.
    case perfectRanking = "d"

    public static let exitCosts = [0.5, 1.0]

    public var title: String {
        switch self {
        case .constant: return "(a) constant 0.7"
        case .calibratedRanking: return "(b) calibrated ranking"
        case .miscalibratedRanking: return "(c) miscalibrated, same ranking"
        case .perfectRanking: return "(d) miscalibrated, perfect ranking"
        }
    }

    /// The analytic values (AUC, ECE, AUROC, EEFP*) of IC1.
    public var expected: (auc: Double, ece: Double, auroc: Double, eefp: Double) {
        switch self {
        case .constant: return (0.80, 0, 0.5, 0.5)
        case .calibratedRanking: return (0.85, 0, 6.0 / 7, 0.8125)
        case .miscalibratedRanking: return (0.85, 0.1925, 6.0 / 7, 0.8125)
        case .perfectRanking: return (0.87, 0.187, 1, 0.9375)
        }
    }

    /// The 1,000 samples (label 0; a wrong exit predicts 1); the final exit's confidence is 1.
    public var scores: ExitScores {
        // (count, IC1 confidence, IC1 correct, final correct)
        let groups: [(Int, Double, Bool, Bool)]
        switch self {
        case .constant:
            groups = [(700, 0.7, true, true), (200, 0.7, false, true), (100, 0.7, false, false)]
        case .calibratedRanking, .miscalibratedRanking:
            let (high, low) = self == .calibratedRanking ? (0.9, 0.1) : (0.99, 0.6)
            groups = [(675, high, true, true), (50, high, false, true), (25, high, false, false),
                      (25, low, true, true), (150, low, false, true), (75, low, false, false)]
        case .perfectRanking:
            groups = [(700, 0.99, true, true), (200, 0.6, false, true), (100, 0.6, false, false)]
        }
        var confidence: [Double] = [], early: [Int] = [], final: [Int] = []
        for (count, s, earlyRight, finalRight) in groups {
            confidence += Array(repeating: s, count: count)
            early += Array(repeating: earlyRight ? 0 : 1, count: count)
            final += Array(repeating: finalRight ? 0 : 1, count: count)
        }
        return ExitScores(confidences: [confidence, Array(repeating: 1, count: confidence.count)],
                          predictions: [early, final], labels: Array(repeating: 0, count: confidence.count))
    }
}
