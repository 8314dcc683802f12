import Foundation

/// The base of every layer and model. A module's stored `Tensor` properties are its parameters (except
/// those named in `bufferNames`, e.g. BatchNorm's running statistics), and its stored `Module` properties
/// (also inside arrays, nested arrays such as `[[Linear]]`, and optionals) are its children. Both are found
/// by reflection, so a layer is just a class with stored properties. Modules inside a dictionary or a set
/// (no fixed order, hence no stable paths) stop the program with a message naming the property; tensors
/// there are not state (e.g. fixed masks kept by layer index):
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
                switch mirror.displayStyle {
                case .optional:
                    if let inner = mirror.children.first { visit(name, inner.value) }
                case .collection:
                    // Nested arrays ([[Linear]], [[Tensor]]): element i of `name` is `name.i`, recursively.
                    for (i, c) in mirror.children.enumerated() { visit("\(name).\(i)", c.value) }
                case .dictionary, .set:
                    precondition(!Self.holdsModule(value), """
                        \(type(of: self)).\(name): modules in a dictionary or set have no fixed order, so Module \
                        cannot give them stable paths; hold them in an array or in stored properties
                        """)
                default: break
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

    /// Whether `value` is, or holds at any depth of collections, optionals and tuples, a module (the test of
    /// the dictionary/set refusal above; internal so tests can check it without a process that stops).
    static func holdsModule(_ value: Any) -> Bool {
        if value is Module { return true }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .collection, .dictionary, .set, .optional, .tuple: return mirror.children.contains { holdsModule($0.value) }
        default: return false
        }
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

    /// A deep copy of this module: `makeTwin` builds a module of the same architecture (its initial values do
    /// not matter), then the twin takes over what this module grew after it was built (`adoptStructure`, e.g.
    /// task heads added on demand), every parameter and buffer value (BatchNorm running statistics), each
    /// module's train/eval mode and each parameter's frozen flag. Nothing is shared with the original. (Swift
    /// cannot make an instance of an arbitrary subclass by reflection, hence the builder.)
    ///
    ///     var scratch = RNG(seed: 0)
    ///     let teacher = try student.clone { StudentNet(rng: &scratch) }
    ///     teacher.freeze()
    ///
    /// A twin of another type, or whose children, parameter or buffer paths or shapes still differ after
    /// adopting the structure, is an `invalidArgument` / `shapeMismatch` error naming them.
    public func clone<Twin: Module>(_ makeTwin: () throws -> Twin) throws -> Twin {
        let twin = try makeTwin()
        guard type(of: twin) == type(of: self) else {
            throw LabError.invalidArgument("clone: the twin is a \(type(of: twin)), the original a \(type(of: self))")
        }
        try twin.adoptStructureRecursively(of: self, path: "")
        let mine = Set((twin.namedParameters() + twin.namedBuffers()).map(\.0))
        let theirs = Set((namedParameters() + namedBuffers()).map(\.0))
        guard mine == theirs else {
            throw LabError.invalidArgument("""
                clone: the twin of \(type(of: self)) has other state (only in the original: \
                \(theirs.subtracting(mine).sorted().prefix(5)), only in the twin: \(mine.subtracting(theirs).sorted().prefix(5)))
                """)
        }
        try twin.load(stateDict: stateDict())
        for (copy, original) in zip(twin.modules(), modules()) { copy.isTraining = original.isTraining }
        for (copy, original) in zip(twin.parameters, parameters) { copy.requiresGrad = original.requiresGrad }
        return twin
    }

    /// Makes this module's structure match `original`'s where it grows after construction (e.g. appends the
    /// task heads that `original` has and this module lacks), before `clone` copies the values. `clone` calls
    /// it on every module of the twin, parents before children. The default does nothing (a fixed architecture).
    open func adoptStructure(of original: Module) throws {}

    private func adoptStructureRecursively(of original: Module, path: String) throws {
        try adoptStructure(of: original)
        let mine = members().modules, theirs = original.members().modules
        guard mine.map(\.0) == theirs.map(\.0) else {
            throw LabError.invalidArgument("""
                clone: \(path.isEmpty ? "the model" : path) has children \(mine.map(\.0)) in the twin, \
                \(theirs.map(\.0)) in the original
                """)
        }
        for ((name, child), (_, originalChild)) in zip(mine, theirs) {
            guard type(of: child) == type(of: originalChild) else {
                throw LabError.invalidArgument(
                    "clone: \(path + name) is a \(type(of: child)) in the twin, a \(type(of: originalChild)) in the original")
            }
            try child.adoptStructureRecursively(of: originalChild, path: path + name + ".")
        }
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
