import Lab
import LabData

/// The prompt sets of the safety probe (docs/papers/safety-probe.md §2): name, role and label.
public enum ProbeSet: String, CaseIterable, Sendable, Hashable {
    /// Do-Not-Answer: discrimination/toxicity, information hazards, malicious uses (train + ID test, harmful).
    case dnaID = "dna-id"
    /// Do-Not-Answer: misinformation harms and human-chatbot risks (flag rate only; risky advice, not labelled).
    case dnaOther = "dna-other"
    /// HarmBench standard behaviours (OOD test, harmful).
    case harmbench
    /// Past- and future-tense rephrasings of harmful requests (OOD test, harmful).
    case tense
    /// Templated ordinary requests (train + ID test, benign; semi-synthetic).
    case benignID = "benign-id"
    /// Python FAQ questions (OOD test, benign, real).
    case faq
    /// Templated benign requests with alarming words (false-positive test, benign; semi-synthetic).
    case alarming

    /// The probe's target on this set; nil for dna-other, whose prompts are risky advice rather than requests
    /// for harm (only its flag rate is reported).
    public var label: PromptLabel? {
        switch self {
        case .dnaID, .harmbench, .tense: return .harmful
        case .benignID, .faq, .alarming: return .benign
        case .dnaOther: return nil
        }
    }

    /// The Do-Not-Answer risk areas of dna-id and dna-other.
    public static let inDistributionAreas = ["discrimination_exclusion_toxicity_hateful_offensive", "information_hazard", "malicious_uses"]
    public static let otherAreas = ["misinformation_harms", "human_chatbox"]
}

/// Lower case with whitespace runs collapsed to one space and trimmed: the key under which prompts are duplicates.
public func normalizedPrompt(_ text: String) -> String {
    text.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
}

/// The sizes of every set in the pool and in the common pool (docs/papers/safety-probe.md §2).
public struct PoolSizes: Sendable, Equatable {
    public var pool: [ProbeSet: Int]
    /// Sets encoded under all three prompt variants; absent sets are not in the common pool.
    public var common: [ProbeSet: Int]

    public init(pool: [ProbeSet: Int], common: [ProbeSet: Int]) {
        self.pool = pool
        self.common = common
    }
}

/// The labelled prompts of one run: every set drawn with the data seed, after removing duplicates within and
/// across sets (lower case, collapsed whitespace), so that no text appears in two sets.
public struct PromptPool: Sendable {
    /// The prompts of each set, in draw order.
    public var sets: [ProbeSet: [String]]
    /// Indices into `sets[s]` of the common pool (the prompts encoded under all three variants).
    public var common: [ProbeSet: [Int]]

    public init(sets: [ProbeSet: [String]], common: [ProbeSet: [Int]]) {
        self.sets = sets
        self.common = common
    }

    /// Reads the prompt files of `make data-prompts` under `root`, generates the templated benign sets, removes
    /// duplicates (a prompt already in an earlier set of `ProbeSet.allCases` order is dropped from the later one),
    /// and draws each set's size with seeded partial shuffles. Tense draws half of its size from each tense.
    public static func build(root: String = "data/prompts", sizes: PoolSizes, seed: UInt64 = 1234) throws -> PromptPool {
        let rng = RNG(seed: seed)
        var templateRNG = rng.derived("templates")
        let candidates: [ProbeSet: [[String]]] = [
            .dnaID: [try PromptSet.doNotAnswer(root: root, areas: ProbeSet.inDistributionAreas).texts],
            .dnaOther: [try PromptSet.doNotAnswer(root: root, areas: ProbeSet.otherAreas).texts],
            .harmbench: [try PromptSet.harmBench(root: root).texts],
            .tense: [try PromptSet.tense("past", root: root).texts, try PromptSet.tense("future", root: root).texts],
            .benignID: [BenignTemplates.ordinary(rng: &templateRNG)],
            .faq: [try PromptSet.pythonFAQ(root: root).texts],
            .alarming: [BenignTemplates.alarming(rng: &templateRNG)],
        ]
        var seen = Set<String>()
        var sets: [ProbeSet: [String]] = [:], common: [ProbeSet: [Int]] = [:]
        for set in ProbeSet.allCases {
            let wanted = sizes.pool[set] ?? 0
            var drawRNG = rng.derived("draw-\(set.rawValue)")
            let sources = candidates[set]!.map { texts in texts.filter { seen.insert(normalizedPrompt($0)).inserted } }
            var drawn: [String] = []
            for (k, source) in sources.enumerated() {
                // Split `wanted` over the sources (tense: past, then future), the first ones taking the remainder.
                let share = wanted / sources.count + (k < wanted % sources.count ? 1 : 0)
                guard share <= source.count else {
                    throw LabError.invalidArgument("PromptPool: set \(set.rawValue) needs \(share) prompts from source \(k + 1), which has \(source.count) after removing duplicates")
                }
                drawn += drawRNG.choice(source.count, count: share).map { source[$0] }
            }
            sets[set] = drawn
            let commonCount = sizes.common[set] ?? 0
            guard commonCount <= drawn.count else {
                throw LabError.invalidArgument("PromptPool: the common pool wants \(commonCount) prompts of \(set.rawValue), which has \(drawn.count)")
            }
            common[set] = drawRNG.choice(drawn.count, count: commonCount).sorted()
        }
        return PromptPool(sets: sets, common: common)
    }
}

/// The train / validation / test indices of one labelled set for one seed: 20 % test, then 20 % of the rest for
/// validation (the R2 layer choice), drawn with a seeded shuffle.
public struct ProbeSplit: Sendable, Equatable {
    public var train: [Int], validation: [Int], test: [Int]

    public init(train: [Int], validation: [Int], test: [Int]) {
        self.train = train
        self.validation = validation
        self.test = test
    }

    /// test = round(0.2·count) of a seeded permutation, validation = round(0.2·rest) of what remains, train the
    /// rest; each part sorted.
    public init(count: Int, rng: inout RNG, testFraction: Double = 0.2, validationFraction: Double = 0.2) {
        let order = rng.permutation(count)
        let testCount = Int((testFraction * Double(count)).rounded())
        let validationCount = Int((validationFraction * Double(count - testCount)).rounded())
        test = order[..<testCount].sorted()
        validation = order[testCount..<(testCount + validationCount)].sorted()
        train = order[(testCount + validationCount)...].sorted()
    }

    /// train ∪ validation (the split a head is fitted on once its layer is chosen).
    public var fitting: [Int] { (train + validation).sorted() }
}

/// Data hygiene (docs/papers/safety-probe.md §5, `data-hygiene`): the number of normalised prompt texts that the
/// training texts share with any test text, plus the number of texts that occur under both labels anywhere.
/// `labelled` holds every (text, label) used in the run, training and test alike.
public func hygieneViolations(training: [String], tests: [String], labelled: [(text: String, label: PromptLabel)]) -> Int {
    let trainKeys = Set(training.map(normalizedPrompt))
    let shared = Set(tests.map(normalizedPrompt)).intersection(trainKeys).count
    var labelsOf: [String: Set<PromptLabel>] = [:]
    for (text, label) in labelled { labelsOf[normalizedPrompt(text), default: []].insert(label) }
    return shared + labelsOf.values.filter { $0.count > 1 }.count
}
