// The finite-value guard of every training loop. It lives in Lab (not LabRun) so that the papers' Core targets,
// which depend on Lab only, use the same guard.

/// Stops training when a loss is NaN or infinite: throws `LabError.nonFinite` naming it and the step.
///
///     try checkFinite(loss, what: "training loss", step: step)
public func checkFinite<Value: BinaryFloatingPoint>(_ value: Value, what: String, step: Int) throws {
    guard value.isFinite else {
        throw LabError.nonFinite(what: "\(what) (= \(value))", step: step)
    }
}

/// Stops training when a tensor holds a NaN or an infinity: the error names the tensor (`what`, else its
/// `name`), its shape, and the first bad value and where it is.
public func checkFinite(_ tensor: Tensor, what: String? = nil, step: Int) throws {
    let badIndex = tensor.data.withUnsafeBufferPointer { values in values.firstIndex { !$0.isFinite } }
    guard let badIndex else { return }
    let name = what ?? tensor.name ?? "tensor"
    throw LabError.nonFinite(
        what: "\(name) \(tensor.shape) (\(tensor.data[badIndex]) at flat index \(badIndex))", step: step)
}
