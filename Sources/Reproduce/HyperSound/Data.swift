import Foundation
import HyperSoundCore
import Lab
import LabSignal

/// The clips of a run (docs/papers/hypersound.md §2 "Data"): training recordings (trimmed, for random crops), the evaluation clips of
/// the training pool (for the unconditional INR, retrieval and the generalisation gap), test clips and flite clips.
struct SpeechData: Sendable {
    /// Allison recordings read, and how many were left out as silent.
    let recordingCount: Int, silentCount: Int
    /// Trimmed training recordings (random 4,096-crops are cut from them at every step).
    let trainFiles: [[Float]]
    /// Evaluation clip of every training recording used, and its name.
    let trainPool: [[Float]], trainPoolNames: [String]
    /// The training clips whose reconstruction is measured: the first `trainEvaluationClips.count` of the pool.
    var trainEvaluationClips: [[Float]] { Array(trainPool.prefix(trainEvaluationCount)) }
    let trainEvaluationCount: Int
    let testClips: [[Float]], testNames: [String]
    let fliteClips: [[Float]], fliteNames: [String]

    static let allisonFolder = "data/speech/en_US_f_Allison"
    static let fliteFolder = "data/hypersound/flite"

    /// Loads and prepares the clips the plan names (smoke: 40 training recordings, 8 test clips, 8 training
    /// clips and one flite clip per voice; full: all of them and 64 training clips).
    static func load(_ plan: Plan) throws -> SpeechData {
        let allison = try clips(in: allisonFolder, target: "data-speech", sampleRate: plan.sampleRate, label: .constant("allison"))
        let flite = try clips(in: fliteFolder, target: "data-voices", sampleRate: plan.sampleRate, label: .filePrefix(separator: "_"))

        // Silent prompts (the `silence/` folder: dither of ±2 LSB) carry no speech to reconstruct.
        let audible = allison.clips.filter { clip in clip.samples.reduce(Float(0)) { max($0, abs($1)) } >= 0.01 }
        let (trainIndices, testIndices) = HyperSoundClips.splitByFile(count: audible.count)
        let trainUsed = plan.trainRecordings.map { Array(trainIndices.prefix($0)) } ?? trainIndices
        let testUsed = plan.testClips.map { Array(testIndices.prefix($0)) } ?? testIndices
        let trimmed = trainUsed.map { AudioClips.trimSilence(audible[$0].samples) }

        let fliteUsed = plan.allFliteClips ? flite.clips : flite.clips.filter { name(of: $0.path).hasSuffix("_1") }
        return SpeechData(
            recordingCount: allison.clips.count, silentCount: allison.clips.count - audible.count,
            trainFiles: trimmed,
            trainPool: trimmed.map { AudioClips.peakNormalized(AudioClips.maxEnergyWindow($0, length: HyperSoundClips.length)) },
            trainPoolNames: trainUsed.map { name(of: audible[$0].path) },
            trainEvaluationCount: min(trainUsed.count, plan.trainEvaluationClips),
            testClips: testUsed.map { HyperSoundClips.evaluationClip(audible[$0].samples) },
            testNames: testUsed.map { name(of: audible[$0].path) },
            fliteClips: fliteUsed.map { HyperSoundClips.evaluationClip($0.samples) },
            fliteNames: fliteUsed.map { name(of: $0.path) })
    }

    /// The rates the recordings may have: Allison's prompts are 8 kHz, the flite voices 8 or 16 kHz. A file at any
    /// other rate is refused by name rather than silently resampled into the training data.
    static let sourceSampleRates = 8_000...16_000

    /// Every WAV under `folder` at `sampleRate`; a missing or empty folder names the make target that fetches it.
    private static func clips(in folder: String, target: String, sampleRate: Int, label: AudioClips.LabelRule) throws -> AudioClips {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw LabError.missingFile(path: folder, fix: "run `make \(target)` in the repository root")
        }
        do {
            return try AudioClips(folder: folder, sampleRate: sampleRate, sourceSampleRates: sourceSampleRates, label: label)
        } catch LabError.missingFile(let path, _) {
            throw LabError.missingFile(path: path, fix: "no WAV files there; run `make \(target)` in the repository root")
        }
    }

    /// "digits/7" for ".../en_US_f_Allison/digits/7.wav", "kal_3" for a flite clip.
    private static func name(of path: String) -> String {
        let components = path.split(separator: "/")
        let file = (String(components.last ?? "") as NSString).deletingPathExtension
        guard components.count >= 2 else { return file }
        let parent = String(components[components.count - 2])
        return parent == "en_US_f_Allison" || parent == "flite" ? file : "\(parent)/\(file)"
    }
}
