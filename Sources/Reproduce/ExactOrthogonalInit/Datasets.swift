import ExactOrthogonalInitCore
import Lab
import LabData

/// The data of every experiment (docs/papers/exact-orthogonal-init.md §2): class-balanced seeded subsets of the Fashion-MNIST training set,
/// each split 90 / 10 into training and validation (the validation part only calibrates the learning
/// rate), the official test set (a balanced 1,000 at smoke scale), a fixed balanced test subset for the CNN,
/// the Jacobian probe images, and MNIST-5k split 4,000 / 1,000.
struct PaperData {
    /// Mean and standard deviation of Fashion-MNIST training pixels / 255 (the standardisation).
    let fashionNormalization: Normalization
    let mnistNormalization: Normalization
    let mlp: (train: LabeledImages, validation: LabeledImages)
    let cnn: (train: LabeledImages, validation: LabeledImages)
    let deep: (train: LabeledImages, validation: LabeledImages)
    let test: LabeledImages
    let cnnTest: LabeledImages
    /// x: [probe images, 784], balanced over the classes of the test set.
    let probe: Tensor
    let mnist: (train: LabeledImages, test: LabeledImages)
}

/// A dataset's normalised images as rows. → images [N, C·H·W]
func labeledImages(_ dataset: ImageDataset) -> LabeledImages {
    LabeledImages(images: dataset.allImages().reshaped([dataset.count, dataset.imageSize]), labels: dataset.labels)
}

/// A balanced draw of `total` images split into training (90 %) and validation (10 %), per class.
func trainingSplit(_ pool: ImageDataset, total: Int, validationFraction: Double,
                   rng: inout RNG) throws -> (train: LabeledImages, validation: LabeledImages) {
    let perClass = total / 10, validation = Int((Double(perClass) * validationFraction).rounded())
    let parts = try pool.stratifiedSplit(perClass: [perClass - validation, validation], rng: &rng)
    return (labeledImages(parts[0]), labeledImages(parts[1]))
}

func loadPaperData(_ plan: Plan, rng: RNG) throws -> PaperData {
    let (fashionTrain, fashionTest) = try FashionMNIST.load(root: "data/fashion-mnist")
    let normalization = fashionTrain.computedNormalization()
    let pool = fashionTrain.normalized(normalization), testPool = fashionTest.normalized(normalization)
    var rng = rng
    let mlp = try trainingSplit(pool, total: plan.mlpTrainImages, validationFraction: plan.validationFraction, rng: &rng)
    let cnn = try trainingSplit(pool, total: plan.cnnTrainImages, validationFraction: plan.validationFraction, rng: &rng)
    let deep = try trainingSplit(pool, total: plan.deepTrainImages, validationFraction: plan.validationFraction, rng: &rng)
    let test = try plan.testImages.map { try testPool.balancedSubset(perClass: $0 / 10, rng: &rng) } ?? testPool
    let cnnTest = try testPool.balancedSubset(perClass: plan.cnnTestImages / 10, rng: &rng)
    // The probe images round-robin over the classes (the subset lists its images class by class).
    let perClass = (plan.jacobianImages + 9) / 10
    let probe = try testPool.balancedSubset(perClass: perClass, rng: &rng)
    let probeRows = labeledImages(probe).images.indexSelect(axis: 0, (0..<plan.jacobianImages).map { ($0 % 10) * perClass + $0 / 10 })

    let mnist = try MNIST5k.load(root: "data/mnist5k")
    let mnistParts = try mnist.stratifiedSplit(perClass: [400, 100], rng: &rng)
    let mnistNormalization = mnistParts[0].computedNormalization()
    let mnistTrain = try mnistParts[0].normalized(mnistNormalization)
        .balancedSubset(perClass: plan.deepTrainImages / 10 - Int((Double(plan.deepTrainImages / 10) * plan.validationFraction).rounded()), rng: &rng)
    return PaperData(fashionNormalization: normalization, mnistNormalization: mnistNormalization, mlp: mlp, cnn: cnn,
                     deep: deep, test: labeledImages(test), cnnTest: labeledImages(cnnTest), probe: probeRows,
                     mnist: (labeledImages(mnistTrain), labeledImages(mnistParts[1].normalized(mnistNormalization))))
}
