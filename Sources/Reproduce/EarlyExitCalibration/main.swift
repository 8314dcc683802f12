// Failure Prediction Is a Better Performance Proxy for Early-Exit Networks Than Calibration
// (v3: Rethinking Calibration for Early-Exit Neural Networks). Kubaty, Szatkowski, Jazbec, Wójcik et al.,
// NeurIPS 2025 SPIGM workshop, arXiv 2508.21495; code: gmum/rethinking-calibration-for-eenns.
//
// An early-exit network answers at the first internal classifier (IC) whose max-softmax confidence reaches a
// threshold τ; sweeping τ traces a cost–accuracy curve. Calibration (low ECE) is the usual proxy for good exit
// decisions. The paper argues that what matters is the *ranking* of samples by confidence (failure prediction,
// AUROC), not calibration. This script reproduces, on Fashion-MNIST and a 4-block CNN with three ICs
// (docs/papers/early-exit-calibration.md):
//   Toy    an analytic two-exit example: equal ECE, different efficiency (paper Fig. 1)
//   E1     a multi-exit CNN trained per seed; its exit costs counted from its layers
//   E2     17 confidence variants (calibrators, deliberate miscalibration, noise, an AUC-tuned TS and "ours")
//          fitted on validation logits and evaluated on the test split: ranking (Fig. 2), cost–accuracy curves
//          (Fig. 3), the correlation of ΔECE / ΔAUROC / ΔEEFP* with ΔAUC (Figs. 4–5), and the paper's table.
// Scaled down (docs/papers/early-exit-calibration.md §2): Fashion-MNIST and a 2.4 M-MAC CNN instead of
// CIFAR/ImageNet with MSDNet and friends; 8,000 training images for 20 epochs; three seeds.
// Every number in REPORT.md, claims.json and the figures is computed by this run.
import EarlyExitCalibrationCore
import Foundation
import Lab
import LabData
import LabRun

struct EarlyExitCalibration: PaperCommand {
    static let paper = Paper(
        arXiv: "2508.21495",
        title: "Failure Prediction Is a Better Performance Proxy for Early-Exit Networks Than Calibration",
        command: "early-exit-calibration",
        reproduces: """
            Fig. 1 (an analytic toy), Fig. 2 (calibrators reorder samples), Fig. 3 (cost–accuracy curves), \
            Figs. 4–5 (ΔAUROC, not ΔECE, tracks efficiency) and the paper's Baseline / Calibrated / Ours table, \
            with a 4-block multi-exit CNN on Fashion-MNIST (8,000 training images, 20 epochs, 3 seeds) instead of \
            MSDNet and other EE networks on CIFAR-100 and ImageNet.
            """)

    /// Three seeds at full scale (data draw, init and batch order), one at smoke scale.
    static func defaultSeedCount(scale: Scale) -> Int { Plan(scale: scale).seedCount }
    @OptionGroup var options: RunOptions

    func reproduce(in report: Report) throws {
        let plan = Plan(scale: options.scale)
        let seeds = report.seeds
        report.text("""
            An early-exit network with internal classifiers (ICs) lets a sample leave at the first IC whose confidence \
            s_k(x) (max-softmax) reaches a threshold τ; sweeping τ trades mean cost for accuracy. The paper's thesis: \
            calibration (ECE) says *how confident* an IC is on average, but exit decisions depend on *which* samples it \
            is confident about — a ranking, measured by failure prediction (AUROC of s_k against "IC k is right"). \
            Scale: **\(options.scale.rawValue)**; seeds \(seeds.map(String.init).joined(separator: ", ")).

            Evaluation (docs/papers/early-exit-calibration.md §3): thresholds {0} ∪ \(plan.curveThresholds.uniform) uniform \
            points in [0, 1] ∪ \(plan.curveThresholds.quantiles) quantiles of the pooled IC confidences ∪ {+∞}; a point = \
            (mean cost, accuracy); **AUC** = trapezoid area over cost from c_1 to 1 divided by 1 − c_1; **Acc@b** = \
            accuracy of the point with the largest cost ≤ b. Per exit: **ECE** (15 equal-width bins), **AUROC** \
            (Mann–Whitney with mid-ranks) and **EEFP\\*** — *our operationalisation* of the paper's EEFP, whose exact \
            definition is not known: the AUROC of s_k against safe_k(x) = [IC k right, or no later exit right]. "Mean" \
            is over the ICs 1–3, whose confidences decide exits.
            """)

        // MARK: Toy
        let toy = try report.section("Toy: equal calibration, different efficiency (paper Fig. 1)") { () throws -> [(ToyCase, ExitEvaluation)] in
            report.text("""
                No training: 1,000 samples, IC1 at cost 0.5 and a final exit at cost 1. The final exit is right on 900, \
                IC1 on 700 (all of which the final exit also gets right). Four confidence assignments for IC1: (a) a \
                constant 0.7 (perfectly calibrated, ranks nothing), (b) 0.9 on a group where IC1 is mostly right and 0.1 \
                elsewhere (calibrated, ranks), (c) the ranking of (b) with 0.99 / 0.6 (miscalibrated), (d) 0.99 on exactly \
                the samples IC1 gets right, 0.6 elsewhere (miscalibrated, perfect ranking).
                """)
            let cases = ToyCase.allCases.map { toyCase -> (ToyCase, ExitEvaluation) in
                let scores = toyCase.scores
                return (toyCase, ExitEvaluation(scores, baseline: scores, exitCosts: ToyCase.exitCosts, thresholds: (501, 999)))
            }
            try report.figure(toyFigure(cases), name: "fig-toy",
                              caption: "Toy cost–accuracy curves of cases (a)–(d); IC1's ECE, AUROC and EEFP* in the legend (≈ paper Fig. 1)")
            try report.table(toyTable(cases), name: "toy", caption: "The toy's measured values and the analytic ones")
            report.text("""
                (a) and (b) are both perfectly calibrated (ECE 0), yet (b) is more efficient: its confidence separates the \
                samples IC1 gets right. (b) and (c) rank identically and have identical curves although (c) is badly \
                calibrated; (d), the worst calibrated but a perfect ranker, is the most efficient.
                """)
            return cases
        }

        // MARK: Data and model
        let (training, test) = try report.section("Data and model") { () throws -> (ImageDataset, ImageDataset) in
            let (training, test) = try loadTest(plan)
            report.text("""
                Fashion-MNIST (Debian `dataset-fashion-mnist`), pixels / 255 standardised with mean \(Plan.pixelMean) and \
                std \(Plan.pixelStd), no augmentation. Per seed a stratified seeded draw from the 60,000 training images: \
                \(plan.trainPerClass * 10) for training and \(plan.validationPerClass * 10) for validation (calibrators are \
                fitted there), disjoint; test: \(test.count) images\(plan.testPerClass == nil ? " (the official test set)" : " (the first \(plan.testPerClass!) per class of the official test set)").

                The network (docs/papers/early-exit-calibration.md §3): four blocks of 3 × 3 convolutions with ReLU (16, 16, \
                32, 32, 32 channels, two max-pools), ICs after blocks 1–3 (2 × 2 average pooling, linear) and the final \
                classifier after block 4; no normalisation layers. Loss (1/4) Σ_k CE(z_k, y); Adam (lr 1e-3), batch 64, \
                \(plan.epochs) epochs, constant learning rate, no early stopping (mild overfitting makes the baseline \
                overconfident, as in the paper).
                """)
            return (training, test)
        }
        var initRNG = RNG(seed: 0)
        let costs = EarlyExitCNN(rng: &initRNG).exitCosts
        let exitCosts = costs.relativeExitCosts
        report.text("""
            MACs per image (convolutions and linear layers, as fvcore counts): backbone cumulative \
            \(costs.cumulativeBackboneMACs.map(String.init).joined(separator: " / ")); reaching exit k also pays for the \
            heads before it: e_k = \(costs.exitMACs.map(String.init).joined(separator: " / ")), so the relative exit costs are \
            c = \(exitCosts.map { String(format: "%.5f", $0) }.joined(separator: ", ")).
            """)

        // MARK: Training and variants
        let runs = try report.section("Training, and 17 confidence variants per seed") { () throws -> [SeedRun] in
            report.text("""
                Every variant is fitted on the seed's validation logits and evaluated on the test split: **base** (raw \
                softmax); **ts-global** (one temperature by NLL, golden section on log T); **ts-per-ic** (one T_k per exit — \
                the paper's "Calibrated"); **vector** scaling (w ⊙ z + b per exit, 500 full-batch Adam steps); **platt** \
                (σ(α·logit(s) + β) on correctness); **hist5**, **hist15** (equal-mass histogram binning); **isotonic** \
                (pool-adjacent-violators); deliberate miscalibration **temp-0.25 … temp-4** (z/T on all exits); \
                **noise-0.05 … 0.2** (s + σε, clipped: destroys ranking); **ts-auc** (per-IC T_k maximising the \
                validation AUC by coordinate ascent on a grid); and **ours** — *our operationalisation* of the paper's \
                EEFP-motivated procedure, whose exact form is not known: per IC a logistic regression on [s, top-1 − top-2 \
                probability, normalised entropy, top-1 − top-2 logit] (standardised, L2 1e-3, Newton/IRLS) trained to \
                predict safe_k; its probability is the new confidence.
                """)
            return try seeds.map { seed in
                let data = try drawSeedData(from: training, plan: plan, seed: seed)
                let run = try runSeed(seed, data: data, test: test, plan: plan, exitCosts: exitCosts, quiet: options.quiet)
                report.text("""
                    Seed \(seed): final training loss \(formatNumber(run.epochLosses.last!)); test accuracy per exit \
                    \(run.base.accuracy.map(formatNumber).joined(separator: " / ")); training \
                    \(String(format: "%.0f", run.trainingSeconds)) s; fitting and evaluating the 17 variants \
                    (\(Variant.allCases.count) curves of \(test.count) samples, plus ts-auc's search) \
                    \(String(format: "%.1f", run.evaluationSeconds)) s.
                    """)
                return run
            }
        }

        // MARK: Figures and tables
        try report.section("Calibrators reorder samples; ranking, not calibration, decides efficiency") {
            let correlations = efficiencyCorrelations(runs)
            try report.figure(rankingFigure(runs), name: "fig-ranking",
                              caption: "Top: IC1 test confidences, rank under the baseline vs rank under four calibrators (seed \(runs[0].seed)), Kendall τ_b in the titles. Bottom: ΔAUROC, ΔECE, ΔAUC (variant − base, IC means) and Kendall τ_b of every variant (≈ paper Fig. 2)")
            try report.figure(costAccuracyFigure(runs, exitCosts: exitCosts), name: "fig-cost-accuracy",
                              caption: "Test cost–accuracy curves, mean over seeds (bands: ± 1 std for base and ours); dotted: the exit costs (≈ paper Fig. 3)")
            try report.figure(correlationFigure(runs, correlations: (correlations.ece, correlations.auroc, correlations.eefp)),
                              name: "fig-correlation",
                              caption: "ΔAUC against ΔECE, ΔAUROC and ΔEEFP* for every (variant, seed), coloured by family; Spearman ρ in the titles (≈ paper Figs. 4–5)")
            try report.figure(reliabilityFigure(runs[0]), name: "fig-reliability",
                              caption: "Reliability diagrams (15 bins) of IC1 and the final exit, base vs ts-per-ic, seed \(runs[0].seed)")
            try report.table(mainTable(runs), name: "main",
                             caption: "Baseline, Calibrated (ts-per-ic), Ours and the AUC-tuned TS on the test split, mean ± std over seeds (≈ the paper's table)")
            try report.table(variantsTable(runs), name: "variants",
                             caption: "All 17 variants: summaries, per-exit accuracy and mean Kendall τ_b against the baseline's confidences")
            report.text("""
                Over the \(correlations.points) (variant, seed) points, Spearman ρ of ΔAUC with ΔAUROC is \
                \(formatNumber(correlations.auroc)), with ΔEEFP* \(formatNumber(correlations.eefp)) and with ΔECE \
                \(formatNumber(correlations.ece)).
                """)
            report.text(efficiencySpreadText(runs))
        }

        // MARK: Scale and deviations
        report.section("What is scaled down, and every deviation from the paper") {
            report.text("""
                - **Data and network.** Fashion-MNIST and a 2.4 M-MAC 4-block CNN with three ICs instead of CIFAR-10/100 and \
                ImageNet with MSDNet, ResNet/ViT-based EE networks; \(plan.trainPerClass * 10) training images for \
                \(plan.epochs) epochs; \(seeds.count) seed(s).
                - **EEFP\\* and "ours"** are our operationalisations: the paper's exact EEFP and its procedure are not known \
                to us. EEFP\\* ranks s_k against "leaving at k loses nothing"; "ours" learns that target from four \
                confidence features.
                - **Costs** are MACs of convolution and linear layers (as fvcore), each exit paying for the heads before \
                it; the paper uses FLOPs of its networks.
                - **Thresholds** add \(plan.curveThresholds.quantiles) quantiles of the pooled IC confidences to a uniform \
                grid, so that the curve stays dense where an overconfident baseline piles its confidences near 1.
                """)
        }

        // MARK: Claims
        report.text("""
            The claims below are every claim of docs/papers/early-exit-calibration.md §5, computed by this run with its \
            thresholds on the test split. A failing paper claim is a finding of this reproduction.
            """)
        try addClaims(to: report, toy: toy, exitCosts: exitCosts, runs: runs)
    }
}

EarlyExitCalibration.runMain()
