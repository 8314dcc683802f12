// ExpertSim: Fast Particle Detector Simulation Using Mixture-of-Generative-Experts
// Będkowski et al., arXiv 2508.20991 (code: github.com/patrick-bedkowski/expertsim-mix-of-generative-experts).
//
// The ALICE Zero Degree Calorimeter (ZDC) answers a particle with a 56 x 30 image of Cherenkov photon counts.
// Geant4 simulates it slowly; the responses differ wildly with the particle's 9 conditioning variables
// (empty, edge-truncated, full showers). ExpertSim routes each condition with a small router MLP to one of
// N = 3 conditional DCGAN experts, trained with SDI diversity, intensity and auxiliary-regressor losses.
//
// What is reproduced: the paper's three claims: (C1) experts specialise on subsets of the data, (C2) the
// mixture matches the 5 readout-channel photon distributions (Wasserstein distance) better than single
// generators, (C3) generation is much faster than Monte-Carlo simulation; with the paper's figure kinds
// (real-vs-generated samples, per-expert samples and conditioning distributions, photon-sum and channel
// distributions, timing) and its main WS table.
//
// What is scaled down, and why (docs/papers/expertsim.md §2): the real ZDC data is private, so the data come from
// our own parametric Monte-Carlo ZDC simulator (ExpertSimCore/ZDCSimulator.swift), a stand-in for Geant4
// that samples photons one by one. All speed-ups are measured against this simulator, not against Geant4.
// The experts are much smaller than the paper's (ModelWidth.expert) and train for Plan.fullEpochs epochs instead
// of 150. The design's seeds run without its cut rule (ExpertSim, B1 three seeds; B2, B3 two); REPORT.md says
// from the run's own wall time whether that plan fits the design's budget.

import ExpertSimCore
import Foundation
import Lab
import LabRun

struct ExpertSimPaper: PaperCommand {
    static let paper = Paper(
        arXiv: "2508.20991",
        title: "ExpertSim: Fast Particle Detector Simulation Using Mixture-of-Generative-Experts",
        command: "expertsim",
        reproduces: """
            The main WS table (ExpertSim vs single-generator and random-routing baselines on the 5 ZDC channel \
            sums), per-expert specialisation, real-vs-generated samples, photon-sum and channel distributions, \
            and the speed-up over Monte-Carlo simulation. Data come from our own photon-by-photon ZDC simulator \
            (a stand-in for Geant4); experts are small and train for 8 epochs on 3,000 events.
            """)
    /// ExpertSim and B1 train with seeds s, s+1, s+2; B2 and B3 with the first two (the design's plan).
    static let defaultSeedCount = 3
    @OptionGroup var options: RunOptions

    func reproduce(in report: Report) throws {
        let runWatch = Stopwatch()   // the run's wall time for the budget sentence of the deviations
        let plan = Plan(scale: options.scale, seeds: report.seeds)
        let seedText = plan.seeds.map(String.init).joined(separator: ", ")
        report.text("""
            Scale **\(options.scale.rawValue)**: \(plan.trainConditions) training and \(plan.testConditions) test \
            conditions (x2 replicas each), \(plan.config.epochs) epochs at batch \(plan.config.batchSize), \
            \(plan.draws) noise draw(s) per evaluation; ExpertSim and B1 seeds {\(seedText)}, B2 and B3 seeds \
            {\(plan.baselineSeeds.map(String.init).joined(separator: ", "))}.

            **The simulator is a stand-in for Geant4. All speed-ups are measured against this simulator, not \
            against Geant4.**
            """)
        let rng = RNG(seed: UInt64(options.seed))

        // MARK: The Monte-Carlo ZDC simulator
        // Our parametric ZDC model gives three response regimes a router can learn from the conditions: a miss
        // (the particle's bent track passes the face: a few border photons and dark counts), an edge-truncated
        // shower, and a contained shower. Training, test and a second "MC-vs-MC floor" simulation of the test
        // conditions come from independent streams.
        let data = report.section("The Monte-Carlo ZDC simulator") { () -> SimulatedData in
            let data = SimulatedData(plan: plan, rng: rng.derived("data"))
            let shares = Regime.allCases.map { regime in
                Double(data.train.regimes.filter { $0 == regime }.count) / Double(data.train.count)
            }
            report.text("""
                Simulated \(data.train.count) training, \(data.test.count) test and \(data.floor.count) floor \
                events in \(formatDuration(data.seconds)) (\(plan.simulationThreads) threads, each running the \
                single-threaded simulator). Training-set regime shares: \
                \(zip(Regime.allCases, shares).map { "\($0.name) \(formatNumber($1))" }.joined(separator: ", ")). \
                Median photon sum: contained \(formatNumber(data.medianPhotonSum(.contained))), \
                edge \(formatNumber(data.medianPhotonSum(.edge))), miss \(formatNumber(data.medianPhotonSum(.miss))).
                """)
            return data
        }
        let preprocessing = ZDCPreprocessing(fitting: data.train)
        let trainTensors = TrainingTensors(preprocessing.prepare(data.train))
        let test = TestReference(events: preprocessing.prepare(data.test), raw: data.test)

        // MARK: Training ExpertSim and the baselines
        // Every model is trained by its own single-threaded job, two jobs side by side: ExpertSim (learned
        // router, 3 experts), B1 (one expert-sized GAN), B2 (one GAN of about 3 experts' size), B3 (3 experts,
        // random routing). Each job also follows its test WS per epoch (seed s only) and scores 3 noise draws.
        let trained = try report.section("Training ExpertSim and the baselines") { () -> [TrainedModel] in
            let jobs: [@Sendable () throws -> TrainedModel] = plan.modelSpecs.map { spec in
                let curve = spec.seed == options.seed ? plan.curveEvents : nil
                return { try trainAndScore(spec, config: plan.config, train: trainTensors, test: test,
                                           draws: plan.draws, curveEvents: curve) }
            }
            let models = try JobPool.run(jobs, workers: plan.trainingWorkers)
            var table = Table(header: ["model", "seed", "G params", "D params", "mean WS", "tail fraction",
                                       "photon-sum W1", "train + score (s)"])
            for m in models {
                table.append([.text(m.spec.name), .integer(m.spec.seed), .integer(m.model.generatorParameters),
                              .integer(m.model.discriminatorParameters), .number(Metrics.mean(m.draws.map(\.meanWS))),
                              .number(Metrics.mean(m.draws.map(\.tailFraction))),
                              .number(Metrics.mean(m.draws.map(\.photonSumW1))), .number(m.seconds)])
            }
            try report.table(table, name: "training", caption: "Every trained model: parameters per generator and " +
                             "discriminator (an ExpertSim/B3 expert; B2 is the wide single GAN), its test scores " +
                             "(means over noise draws) and wall time per job")
            return models
        }
        let results = ModelResults(trained, baseSeed: options.seed)

        // MARK: Speed: generation vs Monte-Carlo simulation (paper timing table)
        // Both sides run on one thread (OpenBLAS too). The MC simulates 300 fresh test conditions event by
        // event; a generator runs the full pipeline (router + expert + e^y − 1) at batch 1 and 256 (smoke: 64), best of 3.
        let speed = report.section("Speed: generation vs the Monte-Carlo simulator") { () -> SpeedResults in
            let speed = SpeedResults.measure(results: results, plan: plan, rng: rng.derived("timing"))
            return speed
        }
        try report.table(speed.table(results: results), name: "speed",
                         caption: "Milliseconds per event (MC) or per image (generators), 1 thread; speed-up vs our MC simulator (stand-in for Geant4)")
        try report.figure(Figures.mcCost(speed), name: "fig-mc-cost",
                          caption: "MC cost per event vs particle energy (log-log), by regime, with ExpertSim's cost per image at batch 1 and \(speed.largeBatch)")
        report.text("""
            The MC simulator's cost grows with energy because every produced photon is sampled; misses cost only \
            dark counts. A generator's cost does not depend on the condition. Measured on \(speed.mcEvents) \
            fresh conditions; cost ratio of the top to the bottom energy tercile (hits only): \
            \(formatNumber(speed.costGrowth)).
            """)

        // MARK: Main table: WS on the 5 channel sums (paper main table)
        // WS_k is the Wasserstein-1 distance between the real test channel-k sums and the generated ones (one
        // image per test event, fresh noise); the reference rows bound it from below (a second MC simulation)
        // and from above (the mean image).
        let references = report.section("Main table: Wasserstein distance on the channel sums") { () -> ReferenceScores in
            ReferenceScores(data: data, test: test, preprocessing: preprocessing)
        }
        try report.table(Tables.wassersteinTable(results: results, references: references, speed: speed),
                         name: "ws", caption: "WS per channel and mean WS ± std over seeds x noise draws (lower is better); generator parameters, forward MACs and ms per image (batch \(speed.largeBatch), 1 thread)")
        report.text(Tables.wassersteinSummary(results: results, references: references))
        try report.table(Tables.regimeTable(results: results), name: "regimes",
                         caption: "Mean WS within each MC photon-sum tercile of the test events (low = mostly misses, high = contained showers)")
        try report.figure(Figures.trainingCurves(results: results, epochs: plan.config.epochs), name: "fig-ws-training",
                          caption: "Test WS (1 draw, first \(plan.curveEvents) test events) after each epoch, seed \(options.seed)")

        // MARK: Router and expert specialisation (paper: per-expert conditioning distributions)
        // With the learned router, each expert should take a distinct part of the data: the KS distance
        // between the real photon sums routed to two experts measures how distinct they are.
        let router = report.section("Router and expert specialisation") { () -> RouterAnalysis in
            RouterAnalysis(results: results, test: test, data: data)
        }
        try report.table(router.table(), name: "router",
                         caption: "ExpertSim routing of the test events per seed: load, median routed photon sum (real and generated), share of the final layer's pre-activations (before the output ReLU) above 0 on the routed conditions and their median, pairwise KS of routed photon sums, intensity-tercile accuracy (best expert-to-group map)")
        report.text(router.summary())
        try report.figure(Figures.specialisation(router: router, data: data, test: test), name: "fig-specialisation",
                          caption: "Seed \(options.seed): per-expert distributions of the test conditions routed to it, and expert x intensity group counts")
        try report.figure(Figures.expertSamples(router: router, results: results, data: data), name: "fig-expert-samples",
                          caption: "Seed \(options.seed): per expert, 4 real routed test images (top) and the expert's generated images for the same conditions (bottom), log(1 + photons)")

        // MARK: Samples and distributions (paper: real vs generated examples, photon-sum distribution)
        try report.section("Generated showers and their distributions") {
            try report.figure(Figures.samples(results: results, data: data), name: "fig-samples",
                              caption: "Two test conditions per regime: MC simulation vs ExpertSim (routed expert), B1 and B2 (seed \(options.seed)), log(1 + photons), shared colour scale per row")
            try report.figure(Figures.photonSums(results: results, test: test), name: "fig-photonsum",
                              caption: "Photon-sum distribution of the test events: MC vs ExpertSim (stacked by expert), B1 and B2 (seed \(options.seed))")
            try report.figure(Figures.channels(results: results, test: test), name: "fig-channels",
                              caption: "The 5 channel-sum distributions behind WS: MC vs ExpertSim, B1, B2 (seed \(options.seed))")
        }

        // MARK: Claims
        try Claims.add(to: report, data: data, test: test, results: results, references: references,
                       router: router, speed: speed)
        report.text(Claims.findings(report: report, data: data, test: test, results: results, router: router,
                                    trainingSteps: plan.trainingSteps))
        report.text(Notes.deviations(plan: plan, elapsedSeconds: runWatch.seconds))
    }
}

ExpertSimPaper.runMain()
