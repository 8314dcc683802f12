import ArgumentParser
import LabReport

/// `make <paper> SEEDS="0 1 2"` (and the Slurm aggregate job): aggregates each paper's claims over seeds into
/// `figures/<paper>/claims-seeds.json` and `table-seeds.md`, then regenerates the README's seeds section.
@main
struct LabSeeds: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab-seeds",
        abstract: "Aggregate each paper's claims.json over seeds and regenerate the README seeds section.",
        discussion: """
            Seed 0's run is read from <figures>/<paper>/claims.json, seed n's from \
            <figures>/<paper>/seeds/<n>/claims.json. For each claim: the verdict per seed, on how many seeds it \
            holds, and the mean ± sd of the measured value. A seed without a readable claims.json is reported as \
            missing (and counts as not holding). The README section between \(SeedAggregate.beginMarker) and \
            \(SeedAggregate.endMarker) is rebuilt from every <figures>/*/claims-seeds.json.

            Example: .build/release/lab-seeds --paper stability-gap --paper hypersound --seeds 0 1 2
            """)

    @Option(name: .customLong("paper"), help: "A paper to aggregate (repeatable); none: only regenerate the README.")
    var papers: [String] = []

    @Option(parsing: .upToNextOption, help: "The seeds the papers ran with.")
    var seeds: [Int] = [0]

    @Option(help: "Folder with one sub-folder per paper.")
    var figures = "figures"

    @Option(help: "The README whose seeds section is regenerated.")
    var readme = "README.md"

    @Flag(help: "Exit with status 1 when a seed is missing (for the Slurm aggregate job's state).")
    var failOnMissing = false

    func run() throws {
        var missing = 0
        for paper in papers {
            let aggregate = try SeedAggregate.write(figures: figures, paper: paper, seeds: seeds)
            print("lab-seeds: \(paper): \(SeedAggregate.statusLine(aggregate)) -> \(figures)/\(paper)/\(SeedAggregate.aggregateFileName)")
            for seed in aggregate.missing {
                print("lab-seeds: \(paper) seed \(seed.seed) missing: \(seed.path): \(seed.reason)")
            }
            missing += aggregate.missing.count
        }
        let count = try SeedAggregate.updateReadme(readmePath: readme, figures: figures)
        print("lab-seeds: \(readme) seeds section regenerated (\(count) paper(s) from \(figures)/*/\(SeedAggregate.aggregateFileName))")
        if failOnMissing && missing > 0 { throw ExitCode(1) }
    }
}
