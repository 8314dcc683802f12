import Foundation

/// The base of every layer and model. A module's stored `Tensor` properties are its parameters (except
/// those named in `bufferNames`, e.g. BatchNorm's running statistics), and its stored `Module` properties
/// (also inside arrays and optionals) are its children. Both are found by reflection, so a layer is just a
/// class with stored properties:
///
///     final class MLP: Module, Layer {
///         let fc1 = Linear(inputSize: 784, outputSize: 512, rng: &rng)
///         let fc2 = Linear(inputSize: 512, outputSize: 10, rng: &rng)
///         func callAsFunction(_ x: Tensor) -> Tensor { fc2(fc1(x).relu()) }
///     }
///
/// Parameter paths are the property names joined by dots (`fc1.weight`, `blocks.3.attention.query.weight`).
open class Module {
    /// Train mode (BatchNorm uses batch statistics, Dropout drops) or eval mode.
    public private(set) var isTraining = true

    public init() {}

    /// Names of stored tensors that are state but not trained (running statistics, fixed masks).
    open var bufferNames: Set<String> { [] }

    /// Direct children and tensors found by reflection, in declaration order.
    private func members() -> (tensors: [(String, Tensor)], modules: [(String, Module)]) {
        var tensors: [(String, Tensor)] = [], modules: [(String, Module)] = []
        func visit(_ name: String, _ value: Any) {
            switch value {
            case let t as Tensor: tensors.append((name, t))
            case let m as Module: modules.append((name, m))
            case let ts as [Tensor]: for (i, t) in ts.enumerated() { tensors.append(("\(name).\(i)", t)) }
            case let ms as [Module]: for (i, m) in ms.enumerated() { modules.append(("\(name).\(i)", m)) }
            default:
                let mirror = Mirror(reflecting: value)
                if mirror.displayStyle == .optional, let inner = mirror.children.first {
                    visit(name, inner.value)
                } else if mirror.displayStyle == .collection {
                    for (i, c) in mirror.children.enumerated() {
                        if let m = c.value as? Module { modules.append(("\(name).\(i)", m)) }
                    }
                }
            }
        }
        var mirror: Mirror? = Mirror(reflecting: self)
        var levels: [Mirror] = []
        while let m = mirror { levels.append(m); mirror = m.superclassMirror }
        for level in levels.reversed() {
            for child in level.children {
                guard let label = child.label else { continue }
                let name = label.hasPrefix("_") ? String(label.dropFirst()) : label
                if name == "isTraining" { continue }
                visit(name, child.value)
            }
        }
        return (tensors, modules)
    }

    /// Every trainable tensor with its dotted path, depth first in declaration order.
    public func namedParameters(prefix: String = "") -> [(String, Tensor)] {
        let (tensors, modules) = members()
        var out = tensors.filter { !bufferNames.contains($0.0) }.map { (prefix + $0.0, $0.1) }
        for (name, m) in modules { out += m.namedParameters(prefix: prefix + name + ".") }
        return out
    }

    /// Every buffer (non-trained state) with its dotted path.
    public func namedBuffers(prefix: String = "") -> [(String, Tensor)] {
        let (tensors, modules) = members()
        var out = tensors.filter { bufferNames.contains($0.0) }.map { (prefix + $0.0, $0.1) }
        for (name, m) in modules { out += m.namedBuffers(prefix: prefix + name + ".") }
        return out
    }

    /// The trainable tensors, e.g. for an optimizer.
    public var parameters: [Tensor] { namedParameters().map(\.1) }

    /// Number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// This module and all its descendants.
    public func modules() -> [Module] { [self] + members().modules.flatMap { $0.1.modules() } }

    /// Train mode for this module and all descendants.
    public func train() { for m in modules() { m.isTraining = true } }
    /// Eval mode for this module and all descendants.
    public func eval() { for m in modules() { m.isTraining = false } }

    /// Stops gradients to every parameter (they keep their values; optimizers skip them).
    public func freeze() { for p in parameters { p.requiresGrad = false; p.grad = nil } }
    /// Makes every parameter trainable again.
    public func unfreeze() { for p in parameters { p.requiresGrad = true } }

    /// Clears every parameter's gradient.
    public func zeroGrad() { for p in parameters { p.grad = nil } }

    /// A copy of every parameter and buffer value, by path.
    public func stateDict() -> [String: Tensor] {
        var d: [String: Tensor] = [:]
        for (k, t) in namedParameters() + namedBuffers() { d[k] = t.copy() }
        return d
    }

    /// Overwrites parameters and buffers from `state` (same paths and shapes, else an error naming them).
    public func load(stateDict state: [String: Tensor]) throws {
        let mine = namedParameters() + namedBuffers()
        let missing = mine.map(\.0).filter { state[$0] == nil }
        if !missing.isEmpty { throw LabError.invalidArgument("load(stateDict:): missing entries \(missing.prefix(5))") }
        for (k, t) in mine {
            let s = state[k]!
            guard s.shape == t.shape else {
                throw LabError.shapeMismatch(op: "load(stateDict:) \(k)", shapes: [t.shape, s.shape], reason: "saved shape differs")
            }
            t.data = s.data
        }
    }

    /// Makes this module's parameters and buffers equal to `other`'s (same architecture): a deep copy of
    /// the state into an independently built twin, e.g. a frozen teacher.
    public func copyState(from other: Module) {
        // Both trees were built by the same code, so their paths line up; a mismatch is a programming error.
        try! load(stateDict: other.stateDict())
    }

    /// Saves parameters and buffers as a safetensors file (atomically).
    public func save(to path: String, metadata: [String: String] = [:]) throws {
        try Safetensors.write(stateDict(), to: path, metadata: metadata)
    }

    /// Loads parameters and buffers from a safetensors file written by `save(to:)`.
    public func load(from path: String) throws {
        try load(stateDict: Safetensors.read(path))
    }
}

/// A module applied to one tensor.
public protocol Layer: Module {
    func callAsFunction(_ x: Tensor) -> Tensor
}

/// Layers applied one after another.
public final class Sequential: Module, Layer {
    public let layers: [any Layer]
    public init(_ layers: [any Layer]) { self.layers = layers }
    public convenience init(_ layers: any Layer...) { self.init(layers) }
    public func callAsFunction(_ x: Tensor) -> Tensor { layers.reduce(x) { $1($0) } }
}

/// A parameter-free layer from a closure (activations, reshapes) for use in `Sequential`.
public final class Lambda: Module, Layer {
    let body: (Tensor) -> Tensor
    public init(_ body: @escaping (Tensor) -> Tensor) { self.body = body }
    public func callAsFunction(_ x: Tensor) -> Tensor { body(x) }
}
