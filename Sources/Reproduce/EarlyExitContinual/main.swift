// Accelerated Inference and Reduced Forgetting: The Dual Benefits of Early-Exit Networks in Continual Learning
// Szatkowski, Yang, Twardowski, Trzciński, van de Weijer (v1, March 2024), arXiv 2403.07404;
// code: fszatkowski/continual-early-exit (a FACIL fork).
//
// Early-exit (EE) networks attach internal classifiers (ICs) to a backbone; a sample leaves at the first exit
// confident enough. In class-incremental learning the paper finds that early ICs forget less, that some IC is
// often right where the final classifier is wrong (overthinking), and that every exit is biased towards the most
// recent task, which breaks confidence-based exiting. Task-wise Logits Correction (TLC) adds a per-task bias,
// fitted on the last task's training data only, that evens out the tasks' logit scales and improves accuracy at
// every compute budget. This script reproduces, on Fashion-MNIST split into 5 tasks of 2 classes
// (docs/papers/early-exit-continual.md):
//   E1  FT, LwF, ER and Joint, each as a base network and as an EE network, seeds {0, 1, 2}
//   E2  TLC fitted per EE run; cost–accuracy curves before and after it (≈ Fig. 1 and the TLC figure)
//   E3  per-exit accuracy and forgetting (≈ the per-IC forgetting figure), task-recency bias (≈ the confidence
//       heatmap) and overthinking; the main table
// Scaled down (docs/papers/early-exit-continual.md §2): Fashion-MNIST and a 0.84 M-MAC CNN instead of CIFAR-100 and
// ImageNet-Subset with ResNets; 400 training images per class, 8 epochs per task with Adam instead of 200 with SGD.
// Every number in REPORT.md, claims.json and the figures is computed by this run.
import EarlyExitContinualCore
import Foundation
import Lab
import LabContinual
import LabData
import LabRun

struct EarlyExitContinual: PaperCommand {
    static let paper = Paper(
        arXiv: "2403.07404",
        title: "Accelerated Inference and Reduced Forgetting: The Dual Benefits of Early-Exit Networks in Continual Learning",
        command: "early-exit-continual",
        reproduces: """
            Fig. 1 and the TLC figure (cost–accuracy curves of base, EE and EE+TLC networks for FT, LwF, ER and Joint), \
            the per-IC forgetting figure, the task-recency confidence heatmap, overthinking and the main table, with a \
            4-block multi-exit CNN on Fashion-MNIST (5 tasks × 2 classes, 400 training images per class, 8 epochs per \
            task, 3 seeds) instead of ResNets on CIFAR-100 and ImageNet-Subset.
            """)

    /// Three seeds at full scale (data draw, init and batch order), one at smoke scale.
    static func defaultSeedCount(scale: Scale) -> Int { Plan(scale: scale).seedCount }
    @OptionGroup var options: RunOptions

    func reproduce(in report: Report) throws {
        let plan = Plan(scale: options.scale)
        let seeds = report.seeds
        report.text("""
            A class-incremental sequence of \(Plan.taskCount) tasks trains one network per (method, variant, seed). Every \
            exit has one linear head per task; the **task-agnostic** (TAg) prediction is the argmax over all heads' \
            logits, the **task-aware** (TAw) one the argmax within the true task's head. An EE network answers at the \
            first exit whose confidence s_k (max-softmax of its TAg logits) reaches a threshold τ; sweeping τ traces a \
            cost–accuracy curve. **TLC** adds bias_t = a·(T − 1 − t) + b to the logits of task t < T − 1 at every exit, \
            with (a, b) fitted on the last task's training images only. Scale: **\(options.scale.rawValue)**; seeds \
            \(seeds.map(String.init).joined(separator: ", ")).
            """)

        // MARK: Data and network
        // Fashion-MNIST in five class pairs in the natural label order; a fresh stratified draw of the training
        // images per seed, the first test images of each class for every seed.
        let tasks = try ClassIncrementalTasks.fashionPairs(taskCount: Plan.taskCount)
        let (data, exitCosts) = try report.section("Data and network") { () throws -> ([ContinualData], [Double]) in
            let (training, test) = try loadFashion(plan)
            let data = try seeds.map { try seedData(training: training, test: test, plan: plan, seed: $0) }
            var scratch = RNG(seed: 0)
            let costs = ContinualExitNetwork(variant: .earlyExit, rng: &scratch).exitCosts(totalClasses: 10)
            let exitCosts = ContinualExitNetwork.relativeExitCosts(totalClasses: 10)
            report.text("""
                Fashion-MNIST (Debian `dataset-fashion-mnist`), pixels / 255 standardised with mean \(Plan.pixelMean) and \
                std \(Plan.pixelStd), no augmentation. Tasks (natural label order): \
                \(tasks.groups.map { "{\($0.map { FashionMNIST.classNames[$0] }.joined(separator: ", "))}" }.joined(separator: ", ")). \
                Per seed a stratified seeded draw of \(plan.trainPerClass) training images per class from the official \
                training file; test: the first \(plan.testPerClass) images per class of the official test file \
                (\(test.count) images). No validation split (fixed epochs, as the authors' scripts).

                The network (docs/papers/early-exit-continual.md §3): 3 × 3 convolutions with ReLU, no normalisation \
                (1→8, 8→8, max-pool, 8→16, max-pool, 16→24, 24→24); ICs after blocks 1–3 pool with α·max + (1 − α)·avg \
                (2 × 2, α learnable, SDN's "standard_conv") and read the flattened map with one linear head per task. \
                MACs per image (convolutions and linear layers, heads at 10 outputs): backbone cumulative \
                \(costs.cumulativeBackboneMACs.map(String.init).joined(separator: " / ")); reaching exit k also pays for \
                every earlier head: e_k = \(costs.exitMACs.map(String.init).joined(separator: " / ")). Normalised by the \
                base network (backbone + final head), as the authors' code: c = \
                \(exitCosts.map { String(format: "%.5f", $0) }.joined(separator: ", ")); the full EE pass costs more than \
                the base network.
                """)
            return (data, exitCosts)
        }

        // MARK: Training
        // Four methods × {base, EE} per seed, two at a time on the two cores.
        let study = try report.section("Training: FT, LwF, ER and Joint, base and EE, per seed") { () throws -> Study in
            let setup = plan.setup
            report.text("""
                Per task: Adam (lr \(formatNumber(Double(setup.learningRate)))), state reset at each task, batch \
                \(setup.batchSize), \(plan.epochsPerTask) epochs (the paper: SGD, 200 epochs). EE loss Σ_k w_k(e)·L_k with \
                the SDN ramp w_k(e) = 0.01 + e/(E − 1)·(w̄_k − 0.01), w̄ = \(setup.icWeightTargets.map(formatNumber)) for \
                IC1–IC3, final exit 1. **FT**: CE on the current task's head. **LwF**: FT + λ·KD with λ = \
                \(formatNumber(Double(setup.lwfLambda))), task-wise KL at T = \(formatNumber(Double(setup.distillationTemperature))) \
                between each old head of exit k and the same head of exit k of the frozen previous model. **ER**: \
                \(setup.exemplarsPerClass) random exemplars per seen class merged into the next task's training set, CE over \
                all heads. **Joint**: one training on all \(Plan.taskCount) tasks together (all heads present), CE over \
                all heads. The **base** variant has the same backbone and the final exit only.
                """)
            let study = try runStudy(plan: plan, tasks: tasks, data: data, seeds: seeds, exitCosts: exitCosts, quiet: options.quiet)
            report.text(trainingText(study))
            return study
        }

        // MARK: Cost–accuracy curves and TLC
        try report.section("Cost–accuracy curves before and after TLC (≈ Fig. 1 and the TLC figure)") {
            try report.figure(costAccuracyFigure(study), name: "fig-cost-accuracy",
                              caption: "TAg test accuracy after task \(Plan.taskCount) against relative inference cost: base network (marker, mean ± std over seeds), EE and EE+TLC curves (mean over seeds, ± 1 std band); dotted: the exit costs c_k (≈ paper Fig. 1 and the TLC figure)")
            try report.table(mainTable(study), name: "main",
                             caption: "Main table: Acc@b (the curve point of largest cost ≤ b), AUC of the cost–accuracy curve, final-exit accuracy, least cost reaching the base network's accuracy, and the fitted TLC (a, b); mean ± std over seeds")
            report.text(tlcText(study))
        }

        // MARK: Forgetting per exit
        try report.section("Early ICs forget less (≈ the per-IC forgetting figure)") {
            try report.figure(icTaskFigure(study), name: "fig-ic-task-accuracy",
                              caption: "FT-EE and LwF-EE after task \(Plan.taskCount): TAg accuracy per exit and task (mean over seeds), and TAw forgetting per exit (mean ± std over seeds)")
            try report.table(forgettingTable(study), name: "forgetting",
                             caption: "Per method (EE networks) and exit: final TAg and TAw accuracy over all tasks and TAw forgetting, mean ± std over seeds")
            report.text(forgettingText(study))
        }

        // MARK: Task-recency bias
        try report.section("Task-recency bias, and what TLC does to it (≈ the confidence heatmap)") {
            try report.figure(recencyFigure(study), name: "fig-recency-bias",
                              caption: "LwF-EE, seed \(study.seeds[0]): mean confidence of correct predictions per exit and task, and the share of test images each exit assigns to each task, before and after TLC; the fitted bias per task")
            report.text(recencyText(study))
        }

        // MARK: Overthinking
        try report.section("Overthinking in continual learning") {
            try report.figure(overthinkingFigure(study), name: "fig-overthinking",
                              caption: "EE networks after the last task: fraction of test images that some IC classifies correctly while the final exit is wrong, and that number as a fraction of the final exit's errors (mean ± std over seeds)")
            report.text(overthinkingText(study))
        }

        // MARK: Scale and deviations
        report.section("What is scaled down, and every deviation from the paper") {
            report.text(deviationsText(plan: plan, seeds: seeds))
        }

        // MARK: Claims
        report.text("""
            The claims below are every claim of docs/papers/early-exit-continual.md §5, computed by this run with its \
            thresholds (test values after task \(Plan.taskCount), mean over the run's seeds). A failing paper claim is a \
            finding of this reproduction.
            """)
        try addClaims(to: report, study: study)
    }
}

EarlyExitContinual.runMain()
