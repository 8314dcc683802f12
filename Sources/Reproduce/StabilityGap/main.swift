// Exploring the Stability Gap in Continual Learning: The Role of the Classification Head
// Łapacz, Marczak, Szatkowski, Trzciński (WACV 2025), arXiv 2411.04723.
//
// In class-incremental learning with replay, accuracy on old tasks drops sharply in the first updates after
// a task switch and then partly recovers: the stability gap. The paper trains one network (finetuning with
// an exemplar buffer) and reads the *same* backbone with two heads, the trained linear head and a
// nearest-mean classifier (NMC) on L2-normalised features. NMC's gap is much smaller, so the gap comes
// mainly from the linear head, not from the representation. An oracle NMC with old-class prototypes from
// training data instead of the buffer behaves like the buffer NMC.
//
// Reproduced: the teaser (accuracy of task 0 and of all old tasks over training, three heads), the zoom on
// the first 96 steps after each switch, the 10-task Fashion/MNIST sequence, the task-recency analysis, the
// memory-size study, and Table 1 (final / average incremental / min / worst-case accuracy, gap, recovery,
// recency), with every claim of the design (docs/papers/stability-gap.md) computed from the runs.
//
// Scaled down, and why: Fashion-MNIST (and MNIST-5k) at 28x28 instead of CIFAR-100 / ImageNet subsets, a
// 24k-parameter CNN with BatchNorm instead of ResNet, 500 training images per class, 6 epochs per task
// instead of 100, batch 32 instead of 128 (more updates per task at our size), no augmentation, NMC
// prototypes of current classes from 100 fixed training images (paper: all of them) and oracle prototypes
// from 150 (60 in fm-10x2) fixed images per old class (paper: the full old training set). All of it so
// that the seven training runs fit 8 minutes on two cores.
import Foundation
import Lab
import LabContinual
import LabData
import LabRun
import StabilityGapCore

struct StabilityGap: PaperCommand {
    static let paper = Paper(
        arXiv: "2411.04723",
        title: "Exploring the Stability Gap in Continual Learning: The Role of the Classification Head",
        command: "stability-gap",
        reproduces: """
            Fig. 1 (stability gap of the linear head vs NMC vs NMC-oracle on the same backbone), the zoom on \
            the first steps after each task switch, the 10-task Fashion/MNIST sequence, the task-recency \
            analysis, the memory-size study and Table 1. Scaled down: Fashion-MNIST 5x2 tasks with a small \
            CNN, 6 epochs per task, 3 seeds.
            """)
    static let defaultSeedCount = 3
    @OptionGroup var options: RunOptions

    /// The story; the FLOP counts of training and evaluation go into run.json (`flops`).
    func reproduce(in report: Report) throws { try report.record("flops", try reproduceCounting(in: report)) }

    /// The story; returns the FLOP counts of training and evaluation.
    func reproduceCounting(in report: Report) throws -> [String: Double] {
        let plan = try Plan(scale: options.scale, seeds: report.seeds)
        report.text("""
            One network is trained by finetuning with replay (FACIL random exemplar selection, memory M) on a \
            class-incremental sequence. At densely spaced steps after every task switch, the *same* eval-mode \
            forward pass is read by three heads: the trained **Linear** head (argmax over the concatenated \
            logits of all task heads), **NMC** (nearest normalised class mean of L2-normalised features; \
            old-class means from the buffer) and **NMC-oracle** (old-class means from \(plan.main.oraclePrototypeImages) \
            fixed training images per class, independent of the buffer). Accuracies are task-agnostic, in percent.

            Scaled down from the paper: Fashion-MNIST instead of CIFAR-100 / ImageNet-100, a 24k-parameter CNN \
            instead of ResNet-18, \(plan.main.epochsPerTask) epochs per task (paper 100), batch \
            \(plan.main.batchSize) (paper 128), no augmentation (paper: crop and flip), current-class prototypes \
            from \(plan.main.currentPrototypeImages) fixed training images (paper: all), oracle prototypes from \
            \(plan.main.oraclePrototypeImages) per old class (paper: the whole old training set).
            """)

        // MARK: Data
        // Fashion-MNIST (and MNIST-5k for the alternating sequence), per-class subsets drawn once with a fixed
        // data seed, so every run and every head is scored on the same test images.
        let data = try report.section("Data") {
            let data = try PlanData(plan: plan)
            report.text("""
                `fashion-5x2`: Fashion-MNIST tasks \(plan.main.tasks.groups.map { "{\($0.map(String.init).joined(separator: ","))}" }.joined(separator: " ")), \
                \(plan.fashionTrainPerClass) training / \(plan.fashionTestPerClass) test images per class (test from t10k), \
                M = \(plan.main.memory). `fm-10x2`: \(plan.sequence.tasks.taskCount) tasks alternating Fashion-MNIST pairs and \
                MNIST-5k digit pairs (global ids 10 + d), \(plan.sequenceFashionTrainPerClass) / \(plan.sequenceFashionTestPerClass) \
                Fashion and \(plan.mnistTrainPerClass) / \(plan.mnistTestPerClass) MNIST images per class. Subsets drawn \
                with data seed \(Plan.dataSeed), independent of the run seed. x = (p/255 − 0.5)/0.5.
                """)
            return data
        }

        // MARK: Training runs
        // Seven independent runs (three seeds of the main setting, two of fm-10x2, two more memory sizes), two at
        // a time with single-threaded BLAS; each run's random streams derive from (setting, seed, M) only.
        let runs = try report.section("Training runs") {
            let runs = try RunSet(plan: plan, data: data, quiet: options.quiet)
            var table = Table(header: ["setting", "seed", "M", "steps per task", "training sample-steps",
                                       "evaluation forwards", "wall s", "CPU s"])
            for run in runs.results {
                table.append([.text(run.setting), .integer(run.seed), .integer(run.memory),
                              .text(run.trace(.linear).taskSteps.map(String.init).joined(separator: " ")),
                              .integer(run.trainingSampleSteps), .integer(run.evaluationForwards),
                              .number((run.seconds * 10).rounded() / 10), .number((run.cpuSeconds * 10).rounded() / 10)])
            }
            try report.table(table, name: "runs", caption: "Training runs: size and wall time of each (2 at a time)")
            return runs
        }
        let main = SeedGroup(runs: runs.runs(plan.main.name))
        let sequence = SeedGroup(runs: runs.runs(plan.sequence.name))

        // MARK: Fig. 1 — the stability gap
        // The paper's teaser: accuracy of the first task and of all old tasks over the whole sequence. The
        // linear head dips at every switch and climbs back; NMC on the same backbone dips far less.
        try report.section("Fig. 1: the stability gap, linear head vs NMC") {
            let figure = Figure(rows: 1, cols: 2, width: 13, height: 4.6, dpi: 130)
            figure.suptitle = "fashion-5x2: old-task accuracy over training, same backbone read by three heads (mean ± std over \(main.seeds.count) seed(s))"
            for (panel, (title, curves)) in [("(a) accuracy on task 0", main.taskZeroAccuracy),
                                             ("(b) mean accuracy on old tasks u < t", main.oldTaskAccuracy)].enumerated() {
                main.drawHeads(on: figure[0, panel], curves, title: title, ylabel: "test accuracy (%)", legend: .lowerLeft)
            }
            try report.figure(figure, name: "fig-stability-gap",
                              caption: "Accuracy on task 0 (a) and mean accuracy on old tasks (b) over training, fashion-5x2")
            report.text("""
                At every task switch the linear head's old-task accuracy falls within a few updates and then \
                partly recovers; NMC and NMC-oracle read from the same backbone at the same steps fall much less. \
                The representation keeps most of the old-task information through the switch: the gap is mainly \
                the linear head's.
                """)
        }

        // MARK: Zoom on the first steps
        // The change of old-task accuracy relative to the end of the previous task, over the first 96 updates
        // of each task (log steps): where the drop happens and how deep it is, per head.
        try report.section("Zoom: the first 96 steps after a switch") {
            let figure = Figure(rows: 1, cols: 2, width: 12, height: 4.4, dpi: 130, sharey: true)
            figure.suptitle = "Old-task accuracy change after a task switch, mean over old tasks, tasks and seeds"
            for (panel, group) in [main, sequence].enumerated() {
                let axes = figure[0, panel]
                for head in EvaluationHead.allCases {
                    let (steps, change) = group.gapZoom(head)
                    axes.line(steps, change, label: head.rawValue, color: head.color, dash: head.dash, marker: .circle,
                              markerSize: 3.5)
                }
                axes.horizontalLine(at: 0)
                axes.xscale = .log2
                axes.title = "\(group.runs[0].setting) (\(group.seeds.count) seed(s))"
                axes.xlabel = "update step i in the new task (log scale)"
                axes.ylabel = "acc_u(t, i) − acc_u(end(t−1)) (pp)"
                axes.legend = .lowerRight
            }
            try report.figure(figure, name: "fig-gap-zoom",
                              caption: "Drop and recovery of old-task accuracy in the first 96 steps of a task")
        }

        // MARK: The 10-task Fashion/MNIST sequence
        // The same comparison when the domain alternates between clothes and digits at every switch.
        try report.section("The 10-task Fashion/MNIST sequence") {
            let figure = Figure(width: 9, height: 4.6, dpi: 130)
            sequence.drawHeads(on: figure[0, 0], sequence.oldTaskAccuracy,
                               title: "fm-10x2: mean accuracy on old tasks u < t (mean ± std over \(sequence.seeds.count) seed(s))",
                               ylabel: "test accuracy (%)", legend: .lowerLeft)
            try report.figure(figure, name: "fig-fm-sequence",
                              caption: "Mean old-task accuracy over training on the alternating Fashion/MNIST sequence")
        }

        // MARK: Task-recency bias
        // Right after a switch, how many old-task test images are predicted into the new task's classes.
        try report.section("Task-recency bias") {
            let figure = Figure(width: 9, height: 4.6, dpi: 130)
            main.drawHeads(on: figure[0, 0], main.recency,
                           title: "fashion-5x2: old-task test images predicted into the current task, R(t, i)",
                           ylabel: "R(t, i) (% of old-task images)", legend: .upperRight)
            try report.figure(figure, name: "fig-recency",
                              caption: "Task-recency bias R(t, i) = mean over old tasks of the share predicted into task t")
        }

        // MARK: Memory size
        // min-ACC and the gap as the exemplar memory grows; the NMC advantage should hold at every size.
        let memoryRuns = plan.allMemorySizes.map { runs.memoryRun($0, plan: plan) }
        try report.section("Memory size") {
            let figure = Figure(rows: 1, cols: 2, width: 12, height: 4.4, dpi: 130)
            figure.suptitle = "fashion-5x2, seed \(plan.memorySeed): worst-case old-task accuracy and gap vs memory size M"
            let sizes = plan.allMemorySizes.map(Double.init)
            let quantities: [(String, String, (HeadSummary) -> Double)] = [
                ("min-ACC (mean over t ≥ 1)", "min-ACC (%)", { $0.minAccuracy }),
                ("stability gap SG (mean over t ≥ 1, u < t)", "SG (pp)", { $0.gap }),
            ]
            for (panel, (title, label, quantity)) in quantities.enumerated() {
                let axes = figure[0, panel]
                for head in [EvaluationHead.linear, .nmc] {
                    axes.line(sizes, memoryRuns.map { quantity($0.trace(head).summary()) }, label: head.rawValue,
                              color: head.color, marker: .circle)
                }
                axes.xscale = .log10
                axes.xticks(sizes, labels: plan.allMemorySizes.map(String.init))
                axes.title = title
                axes.xlabel = "exemplar memory M (images, log scale)"
                axes.ylabel = label
            }
            try report.figure(figure, name: "fig-memory", caption: "min-ACC and stability gap vs memory size, Linear vs NMC")
        }

        // MARK: Table 1 and the per-task record
        // The paper's Table 1: every summary metric per setting and head, mean ± std over seeds.
        try report.section("Table 1: metrics per setting and head") {
            var table = Table(header: ["setting", "head", "seeds", "final acc", "avg inc acc", "min-ACC", "WC-ACC",
                                       "SG", "normalised SG", "recovery", "R_early", "R_end"])
            var groups = [("fashion-5x2", main), ("fm-10x2", sequence)]
            for (memory, run) in zip(plan.allMemorySizes, memoryRuns) where memory != plan.main.memory {
                groups.append(("memory M=\(memory)", SeedGroup(runs: [run])))
            }
            for (name, group) in groups {
                for head in EvaluationHead.allCases {
                    table.append([.text(name), .text(head.rawValue),
                                  .text(group.seeds.map(String.init).joined(separator: " ")),
                                  group.meanAndSpread(head, \.finalAccuracy),
                                  group.meanAndSpread(head, \.averageIncrementalAccuracy),
                                  group.meanAndSpread(head, \.minAccuracy),
                                  group.meanAndSpread(head, \.worstCaseAccuracy),
                                  group.meanAndSpread(head, \.gap),
                                  group.meanAndSpread(head, \.normalizedGap, digits: 3),
                                  group.meanAndSpread(head, \.recovery),
                                  group.meanAndSpread(head, \.recencyEarly, digits: 3),
                                  group.meanAndSpread(head, \.recencyEnd, digits: 3)])
                }
            }
            try report.table(table, name: "metrics", caption: "Table 1: accuracies (%), gaps (pp) and recency (share), mean ± std over seeds")
            report.text("""
                Columns: final acc = mean_u acc_u(end(T−1)); avg inc acc = mean_t mean_{u≤t} acc_u(end(t)); \
                min-ACC = mean over t ≥ 1 of mean_{u<t} min_i acc_u(t, i); WC-ACC = mean over t ≥ 1 of \
                acc_t/k + (1 − 1/k)·min-ACC^t (k = t + 1); SG = acc_u(end(t−1)) − min_i acc_u(t, i) and recovery = \
                acc_u(end(t)) − min_i acc_u(t, i), both averaged over t ≥ 1, u < t; R_early = mean of R(t, i) for \
                i ≤ \(HeadTrace.earlyRecencySteps), R_end = R at the end of each task.
                """)
            try writeRecords(runs.results, report: report)
        }

        // MARK: Deviations and cost
        // What differs from the paper and from the design, and what the runs cost on one core each.
        report.section("Deviations from the paper, and cost") {
            let cpu = runs.results.reduce(0) { $0 + $1.cpuSeconds }
            let longest = runs.results.map(\.cpuSeconds).max() ?? 0
            report.text("""
                - Data and model: Fashion-MNIST / MNIST-5k and a 24k-parameter CNN with BatchNorm instead of \
                CIFAR-100 / ImageNet-100 and ResNet-18; no augmentation.
                - Training length: \(plan.main.epochsPerTask) epochs per task (paper 100), batch \
                \(plan.main.batchSize) (paper 128), LinearLR per epoch from factor 1 to \
                \(plan.main.finalLearningRateFactor). The design's cut rules (epochs 6 → 4, then a smaller dense-evaluation \
                test set) were not applied; the measured cost is given below.
                - NMC prototypes of the current classes from \(plan.main.currentPrototypeImages) fixed training \
                images per class (paper: all current data); oracle prototypes from \(plan.main.oraclePrototypeImages) \
                (fashion-5x2) and \(plan.sequence.oraclePrototypeImages) (fm-10x2) fixed training images per old class \
                (paper: the full old training set). Prototypes are recomputed at every evaluation point (paper: every epoch).
                - The minimum over many evaluation points is biased downwards by evaluation noise for every head \
                (\(plan.fashionTestPerClass) test images per class: one image is \(String(format: "%.2f", 100 / Double(2 * plan.fashionTestPerClass))) pp \
                of a task); the heads are paired, so the comparison is fair, but gaps below about 3 pp are within noise.
                - BatchNorm running statistics are not recalibrated before evaluation (momentum 0.1): their lag \
                right after a switch is part of the setting, and it affects all three heads alike.

                Cost: \(runs.results.count) runs, \(String(format: "%.0f", cpu)) s of single-core CPU time in all \
                (longest run \(String(format: "%.0f", longest)) s), run two at a time: about \
                \(String(format: "%.0f", max(cpu / 2, longest))) s of wall time on two idle cores. The wall times in \
                the runs table are those of this (shared) machine.
                """)
        }

        // MARK: Claims
        // Every claim of the design, computed from the runs above; a failing claim stays failing and is a finding.
        try report.section("The main setting in numbers") {
            report.text("""
                Main setting fashion-5x2, mean over seeds \(main.seeds.map(String.init).joined(separator: ", ")): \
                SG linear \(String(format: "%.1f", main.mean(.linear, \.gap))) pp, NMC \
                \(String(format: "%.1f", main.mean(.nmc, \.gap))) pp, NMC-oracle \(String(format: "%.1f", main.mean(.oracle, \.gap))) pp; \
                min-ACC linear \(String(format: "%.1f", main.mean(.linear, \.minAccuracy))) %, NMC \
                \(String(format: "%.1f", main.mean(.nmc, \.minAccuracy))) %; final accuracy linear \
                \(String(format: "%.1f", main.mean(.linear, \.finalAccuracy))) %, NMC \(String(format: "%.1f", main.mean(.nmc, \.finalAccuracy))) %. \
                Claims with two conditions hold only if both hold; the table lists both measured values.
                """)
            try makeClaims(plan: plan, runs: runs, main: main, sequence: sequence, memoryRuns: memoryRuns, report: report)
        }

        let forwardFLOPs = FeatureCNN.forwardFLOPsPerImage
        return ["training": 3 * forwardFLOPs * Double(runs.results.reduce(0) { $0 + $1.trainingSampleSteps }),
                "evaluation": forwardFLOPs * Double(runs.results.reduce(0) { $0 + $1.evaluationForwards }),
                "forwardPerImage": forwardFLOPs]
    }
}

StabilityGap.runMain()
