// Adapt Your Teacher: Improving Knowledge Distillation for Exemplar-free Continual Learning
// Szatkowski, Pyla, Przewięźlikowski, Cygert, Twardowski, Trzciński (VCL @ ICCV 2023; WACV 2024), arXiv 2308.09544.
//
// Exemplar-free class-incremental learning with knowledge distillation (LwF, LwF.MC) keeps a frozen copy of the
// previous model, the teacher, and makes the student match its outputs on new-task data. New-task data are
// out-of-distribution for the teacher: its BatchNorm running statistics do not fit them, its outputs shift, and
// the KD loss is large and misleading early in each task. Teacher Adaptation (TA) runs the frozen teacher in BN
// train mode during the task: it normalises with the batch's statistics and updates its running statistics,
// with no gradient and no parameter change. The paper finds that TA improves KD methods consistently, most under
// a large distribution shift between tasks.
//
// Reproduced (docs/papers/teacher-adaptation.md): the main tables (avg-inc-acc, final task-agnostic and
// task-aware accuracy, forgetting, paired TA gains) on a domain-shift sequence and a no-shift control, the
// accuracy-after-each-task curves, the per-seed TA gains, the KD-loss analysis (the KD error per step and at
// each task switch), and the exact checks of the method (a frozen teacher whose only change is its BN
// statistics; no effect without BN).
//
// Scaled down, and why (§2): Fashion-MNIST and MNIST-5k 2-class tasks stand in for the paper's multi-dataset
// fine-grained sequence (domain shift) and CIFAR-100 splits (no shift); the 23.5k-parameter CNN with BatchNorm
// of stability-gap instead of ResNet; 300 training images per class and 5 epochs per task (paper: 200 epochs);
// no augmentation. All of it so that 5 seeds x 5 methods x 2 sequences fit 8 minutes on two cores.
import Foundation
import Lab
import LabContinual
import LabData
import LabRun
import TeacherAdaptationCore

struct TeacherAdaptation: PaperCommand {
    static let paper = Paper(
        arXiv: "2308.09544",
        title: "Adapt Your Teacher: Improving Knowledge Distillation for Exemplar-free Continual Learning",
        command: "teacher-adaptation",
        reproduces: """
            The main tables (FT, LwF, LwF+TA, LwF.MC, LwF.MC+TA: avg-inc-acc, final accuracy, forgetting, paired TA \
            gains), accuracy after each task, the per-seed TA gains and the KD-loss analysis, on a 10-task \
            Fashion-MNIST / MNIST sequence whose domain alternates at every task (for the paper's multi-dataset \
            sequence) and a 5-task Fashion-MNIST control without shift, plus a no-BN control. Scaled down: a small CNN \
            with BatchNorm, 300 images per class, 5 epochs per task, 5 seeds.
            """)

    /// Five seeds at full scale (0-4, paired across methods), one at smoke scale.
    static func defaultSeedCount(scale: Scale) -> Int { Plan.seedCount(scale: scale) }
    @OptionGroup var options: RunOptions

    /// The story; the FLOP counts go into run.json (`flops`).
    func reproduce(in report: Report) throws {
        let plan = try Plan(scale: options.scale, seeds: report.seeds)
        report.text("""
            Class-incremental learning without exemplars: each task brings two new classes and a new head \
            (Linear 64 → 2); the student is trained with CE on the current head plus λ·L_KD against a frozen copy \
            of the previous model on the old heads. **LwF**: softened cross-entropy at τ = \
            \(formatNumber(Double(Distillation.temperature))), λ = \(formatNumber(Double(Distillation.lwf.weight))); \
            **LwF.MC**: sigmoid (multi-label) distillation, λ = \(formatNumber(Double(Distillation.lwfMultiClass.weight))); \
            **FT**: λ = 0. **+TA**: the teacher's BatchNorm layers run in train mode on every training batch \
            (batch statistics, running statistics updated, no gradient); without TA they use the running \
            statistics. Accuracies are task-agnostic (argmax over all seen classes) unless marked task-aware; \
            seeds \(plan.seeds.map(String.init).joined(separator: ", ")), scale **\(options.scale.rawValue)**.

            Recipe (docs/papers/teacher-adaptation.md §3): SGD lr \(formatNumber(Double(plan.recipe.learningRate))), \
            no momentum or weight decay, batch \(plan.recipe.batchSize), \(plan.recipe.epochsPerTask) epochs per task \
            (\(plan.stepsPerTask) steps), lr × 0.1 after epochs 3 and 4, gradient-norm clip \
            \(formatNumber(Double(plan.recipe.gradientClipNorm))); new heads U(±1/8); every method of a seed sees the \
            same batches and head initialisations, and starts task 1 from the same task-0 model.
            """)

        // MARK: Data
        // Fashion-MNIST and MNIST-5k, one transform for both domains so the domain difference survives
        // preprocessing; the per-class subsets are drawn once with a fixed data seed.
        let data = try report.section("Data") { () throws -> ContinualData in
            let (fashionTrain, fashionTest) = try FashionMNIST.load()
            let mnist = try MNIST5k.load()
            let data = try ContinualData.fashionAndDigits(
                fashionTrain: fashionTrain, fashionTest: fashionTest, mnist: mnist,
                fashionTrainPerClass: plan.trainPerClass, fashionTestPerClass: plan.testPerClass,
                mnistTrainPerClass: plan.trainPerClass, mnistTestPerClass: plan.testPerClass,
                normalization: Plan.normalization, dataRNG: RNG(seed: Plan.dataSeed))
            func describe(_ tasks: ClassIncrementalTasks) -> String {
                tasks.groups.map { group in
                    let digits = group.allSatisfy { $0 >= 10 }
                    return (digits ? "M" : "F") + "{" + group.map { String(digits ? $0 - 10 : $0) }.joined(separator: ",") + "}"
                }.joined(separator: " ")
            }
            report.text("""
                Per class \(plan.trainPerClass) training and \(plan.testPerClass) test images (Fashion test images \
                from t10k; MNIST-5k rows split per class), drawn with data seed \(Plan.dataSeed); x = (p/255 − 0.5)/0.5. \
                Global ids: Fashion c → c, MNIST digit d → 10 + d.
                - `shift` (\(plan.shiftTasks.taskCount) tasks): \(describe(plan.shiftTasks)). FT, LwF and LwF+TA run \
                all of it; LwF.MC ± TA the first \(plan.matchedTaskCount) tasks (`shift-5`, read from the same runs).
                - `noshift-5` (\(plan.noshiftTasks.taskCount) tasks, control): \(describe(plan.noshiftTasks)).
                """)
            return data
        }

        // MARK: Training runs
        // Per seed one task-0 model (F{0,1}), shared by every method and both sequences; then one job per
        // (seed, sequence, method), two at a time with single-threaded BLAS.
        let runs = try report.section("Training runs") { () throws -> RunSet in
            let runs = try RunSet(plan: plan, data: data, quiet: options.quiet)
            var table = Table(header: ["seed", "sequence", "method", "tasks", "task-0 acc (%)", "final acc (%)",
                                       "sample-steps", "teacher forwards", "wall s", "CPU s"])
            for run in runs.runs.sorted(by: { ($0.seed, $0.sequence) < ($1.seed, $1.sequence) }) + [runs.control.lwf, runs.control.adapted] {
                table.append([.integer(run.seed), .text(run.sequence), .text(run.method.name), .integer(run.taskAgnostic.taskCount),
                              .number(run.taskAgnostic[after: 0, on: 0]), .number(run.taskAgnostic.finalAccuracy),
                              .integer(run.trainingSampleSteps), .integer(run.teacherForwards),
                              .number((run.seconds * 10).rounded() / 10), .number((run.cpuSeconds * 10).rounded() / 10)])
            }
            try report.table(table, name: "runs", caption: "Every run (2 at a time; wall and CPU seconds on this machine)")
            report.text(String(format: "The %d task-0 models took %.1f s of wall time (2 at a time).",
                               runs.firstTaskModels.count + 1, runs.firstTaskSeconds))
            return runs
        }
        let readings = Readings(plan: plan, runs: runs)

        // MARK: The main tables
        // The paper's main tables: FT, LwF and LwF.MC with and without TA, on the shift sequence and the control.
        try report.section("Main table: accuracy and forgetting per sequence and method") {
            var table = Table(header: ["sequence", "method", "avg-inc-acc", "final acc", "final acc (task-aware)",
                                       "forgetting", "Δ avg-inc-acc (TA, paired)"])
            for sequence in Readings.sequences {
                for method in Method.all where runs.has(sequence: sequence, method: method) {
                    let summaries = readings.summaries(sequence, method)
                    table.append([.text(sequence), .text(method.name),
                                  meanAndSpread(summaries.map(\.averageIncrementalAccuracy)),
                                  meanAndSpread(summaries.map(\.finalAccuracy)),
                                  meanAndSpread(summaries.map(\.finalTaskAwareAccuracy)),
                                  meanAndSpread(summaries.map(\.forgetting)),
                                  method.teacherAdaptation ? meanAndSpread(readings.gains(sequence, method.distillation), digits: 2) : "—"])
                }
            }
            try report.table(table, name: "main",
                             caption: "Accuracies and forgetting (%), mean ± std over \(plan.seeds.count) seed(s); Δ = paired TA gain (pp)")
            report.text("""
                avg-inc-acc = mean over t of avg_acc[t] (avg_acc[t] = mean over u ≤ t of acc_tag[t, u]); final acc = \
                avg_acc[T−1]; forgetting = mean over u < T−1 of max_{t'<T−1} acc_tag[t', u] − acc_tag[T−1, u]. \
                `shift-5` is the first \(plan.matchedTaskCount) tasks of the `shift` runs. The student's own BN running \
                statistics come from the last task's domain at evaluation (not recalibrated, §7), which lowers old-task \
                accuracy on `shift` for every method.
                """)
        }

        // MARK: Accuracy after each task
        try report.section("Accuracy after each task") {
            try report.figure(accuracyFigure(readings), name: "fig-accuracy-vs-task",
                              caption: "avg_acc[t] after each task, five methods, ±1 std over seeds; left shift, right noshift-5")
        }

        // MARK: TA gains per seed
        // The paired gains: one dot per seed, the bar is their mean; above zero means TA helped.
        try report.section("Teacher Adaptation gain per seed") {
            try report.figure(gainFigure(readings), name: "fig-ta-gain",
                              caption: "Paired TA gain in avg-inc-acc per seed (dots) and mean (bars)")
        }

        // MARK: The KD-loss analysis
        // The paper's KD-loss analysis: without TA the teacher's outputs on the new task are computed with stale
        // BN statistics, so the KD error jumps at each switch; with TA it starts at 0 and stays small.
        try report.section("KD error over training and at each task switch") {
            try report.figure(kdErrorFigure(readings), name: "fig-kd-loss",
                              caption: "KD error D per step (mean over seeds), LwF and LwF.MC with and without TA; dashed: task switches")
            var table = Table(header: ["t", "sequence", "D at step 0, LwF", "D at step 0, LwF.MC",
                                       "early D, LwF", "early D, LwF+TA", "early D, LwF.MC", "early D, LwF.MC+TA"])
            for t in 1..<plan.matchedTaskCount {
                for sequence in [RunSet.matched, RunSet.noshift] {
                    table.append([.integer(t), .text(sequence),
                                  meanAndSpread(readings.switchError(sequence, .lwf, task: t), digits: 4),
                                  meanAndSpread(readings.switchError(sequence, .lwfMultiClass, task: t), digits: 4)]
                                 + [Method.lwf, .lwfAdapted, .lwfMultiClass, .lwfMultiClassAdapted].map {
                                     meanAndSpread(readings.earlyError(sequence, $0, tasks: t..<(t + 1)), digits: 4)
                                 })
                }
            }
            try report.table(table, name: "switch-kl",
                             caption: "KD error at the switch (step 0, without TA) and early KD error (steps 0-\(plan.earlySteps - 1)), mean ± std over seeds")
            report.text("""
                D is the KD error, not the training loss (§3): LwF (1/B) Σ_b KL(p_T ‖ p_S) at τ = 2; LwF.MC (1/B) Σ_b Σ_k \
                KL of the Bernoulli outputs; it is 0 exactly when student and teacher agree. At step 0 without TA, \
                student and teacher have equal weights, so D measures only the teacher's BN mismatch on the new data.
                """)
            try writeTrace(runs, report: report)
        }

        // MARK: Exact checks
        let controls = Controls(runs, seeds: plan.seeds)
        try report.section("Exact checks of the method") {
            try report.table(controls.table, name: "controls",
                             caption: "Identities of the paired design and of TA, measured over every run")
            report.text("""
                The no-BN control uses the same convolutions (with bias) without BatchNorm, `noshift-5` tasks 0-1, \
                \(plan.controlRecipe.epochsPerTask) epochs, seed \(plan.seeds[0]): with no BN layer, train and eval \
                mode are the same function, so LwF and LwF+TA must give bit-identical runs. Without BN this network \
                trains slowly: its task-0 accuracy after \(plan.controlRecipe.epochsPerTask) epochs is \
                \(formatNumber(runs.control.lwf.taskAgnostic[after: 0, on: 0])) % (BN network: \
                \(formatNumber(Metrics.mean(runs.firstTaskModels.values.map(\.taskAgnosticAccuracy)))) % after \
                \(plan.recipe.epochsPerTask)); the identity does not depend on it.
                """)
        }

        // MARK: Deviations and cost
        report.section("Deviations from the paper, and cost") {
            let all = runs.runs + [runs.control.lwf, runs.control.adapted]
            let cpu = all.reduce(0) { $0 + $1.cpuSeconds }
            report.text("""
                - Data and model: Fashion-MNIST / MNIST-5k 2-class tasks and a 23.5k-parameter CNN with BatchNorm \
                instead of the paper's CIFAR-100 splits, the multi-dataset fine-grained sequence and ResNet-18/32; the \
                low-level Fashion/MNIST domain change stands in for the paper's dataset shift. No augmentation \
                (paper: crop and flip).
                - Training length: \(plan.recipe.epochsPerTask) epochs per task with lr × 0.1 after epochs 3 and 4 \
                (paper: 200 epochs, milestones 60/120/160). The design's cut rules (epochs 5 → 4, then 300 → 200 \
                training images per class, if the full run exceeds 8 minutes) are not applied.
                - LwF.MC ± TA run only the first \(plan.matchedTaskCount) tasks of `shift` (budget); the `shift` row of the \
                main table therefore has FT, LwF and LwF+TA only.
                - Not reproduced: TinyImageNet, ImageNet-Subset, pretrained fine-grained sequences, A-LwF, the \
                teacher-training ablations (TP, CTT, BNP, CBNT) and the CKA analysis.

                Cost: \(all.count) task-sequence runs, \(String(format: "%.0f", cpu)) s of single-core CPU time in all, \
                plus the task-0 models; run two at a time on this (shared) machine.
                """)
            try? report.record("flops", flopCounts(all))
        }

        // MARK: Claims
        // Every claim of the design, computed from the runs; a failing claim stays failing and is a finding.
        report.text("""
            The claims below are every claim of docs/papers/teacher-adaptation.md §5, mean over seeds \
            \(plan.seeds.map(String.init).joined(separator: ", ")); Δ is the paired gain in avg-inc-acc (pp). The TA \
            claims are inconclusive unless LwF clearly beats finetuning (lwf-beats-ft). Claims with two conditions \
            hold only when both hold; the table lists both.
            """)
        try makeClaims(readings, controls: controls, report: report)
    }

    /// Student 3x forward per training sample-step, teacher 1x forward per teacher sample, 1x per evaluation image.
    func flopCounts(_ runs: [SequenceRunResult]) -> [String: Double] {
        let forward = FeatureCNN.forwardFLOPsPerImage
        return ["training": 3 * forward * Double(runs.reduce(0) { $0 + $1.trainingSampleSteps }),
                "teacher": forward * Double(runs.reduce(0) { $0 + $1.teacherForwards }),
                "evaluation": forward * Double(runs.reduce(0) { $0 + $1.evaluationForwards }),
                "forwardPerImage": forward]
    }
}

TeacherAdaptation.runMain()
