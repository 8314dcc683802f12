import Lab
import LabData

/// One class-incremental experiment: the task sequence, the replay memory and the training recipe
/// (finetuning with replay, as the authors' FACIL-based code).
public struct ContinualSetting: Sendable {
    /// "fashion-5x2", "fm-10x2" or "memory".
    public var name: String
    /// The class-incremental sequence (global class ids of each task, in head order).
    public var tasks: ClassIncrementalTasks
    /// Total exemplar memory M (images).
    public var memory: Int
    public var epochsPerTask: Int
    public var batchSize: Int
    /// A final batch with fewer images is dropped.
    public var minimumBatchSize: Int
    /// SGD learning rate at the start of each task; per-epoch LinearLR down to `finalLearningRateFactor`.
    public var learningRate: Float
    public var finalLearningRateFactor: Float
    /// |P_c| for the current classes of both NMC heads (fixed training images of c).
    public var currentPrototypeImages: Int
    /// |P_c| for old classes of the NMC-oracle head (fixed training images of c, independent of the buffer).
    public var oraclePrototypeImages: Int

    public init(name: String, tasks: ClassIncrementalTasks, memory: Int, epochsPerTask: Int, batchSize: Int,
                minimumBatchSize: Int = 8, learningRate: Float = 0.1, finalLearningRateFactor: Float = 0.01,
                currentPrototypeImages: Int, oraclePrototypeImages: Int) {
        self.name = name
        self.tasks = tasks
        self.memory = memory
        self.epochsPerTask = epochsPerTask
        self.batchSize = batchSize
        self.minimumBatchSize = minimumBatchSize
        self.learningRate = learningRate
        self.finalLearningRateFactor = finalLearningRateFactor
        self.currentPrototypeImages = currentPrototypeImages
        self.oraclePrototypeImages = oraclePrototypeImages
    }

    /// The learning-rate factor of epoch e of a task: 1 − (1 − final)·e/E (PyTorch's LinearLR per epoch).
    public func learningRateFactor(epoch: Int) -> Float {
        LinearSchedule(start: 1, end: finalLearningRateFactor, totalSteps: epochsPerTask).factor(at: epoch)
    }
}
