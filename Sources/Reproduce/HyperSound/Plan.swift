import LabRun

/// Every size of a run at one scale (docs/papers/hypersound.md §2). Full: every recording, 2,000 training steps per variant
/// (the first design had 1,500 on 4x longer clips) and 500-step per-clip fits on 8 clips; smoke: the same code on a few
/// clips and steps.
struct Plan {
    /// Sample rate of every clip (Allison's prompts are 8 kHz; flite's 16 kHz voices are resampled to it).
    let sampleRate = 8_000
    /// Training recordings used (nil: all of them), test clips used (nil: all), and the training clips whose
    /// reconstruction measures the generalisation gap.
    let trainRecordings: Int?, testClips: Int?, trainEvaluationClips: Int
    /// Whether every flite clip is used, or one per voice (`<voice>_1`).
    let allFliteClips: Bool
    /// Training steps of each variant, and of the four-clip sanity fit.
    let trainingSteps: Int, sanitySteps: Int
    /// Steps of each per-clip INR fit, and how many test clips are fitted.
    let perClipSteps: Int, perClipClips: Int

    init(scale: Scale) {
        switch scale {
        case .full:
            (trainRecordings, testClips, trainEvaluationClips, allFliteClips) = (nil, nil, 64, true)
            (trainingSteps, sanitySteps) = (2_000, 300)
            (perClipSteps, perClipClips) = (500, 8)
        case .smoke:
            (trainRecordings, testClips, trainEvaluationClips, allFliteClips) = (40, 8, 8, false)
            (trainingSteps, sanitySteps) = (40, 20)
            (perClipSteps, perClipClips) = (40, 2)
        }
    }
}
