import Foundation

/// A learning-rate schedule: the multiplier of the base learning rate at a step (0-based).
///
///     let schedule = CosineSchedule(totalSteps: 200, warmupSteps: 20, finalFactor: 0.1)
///     optimizer.learningRate = baseLR * schedule.factor(at: step)
public protocol LRSchedule: Sendable {
    func factor(at step: Int) -> Float
}

/// Constant learning rate.
public struct ConstantSchedule: LRSchedule {
    public init() {}
    public func factor(at step: Int) -> Float { 1 }
}

/// Multiply by `gamma` at each milestone step (PyTorch's MultiStepLR); `StepLR` is milestones every k steps.
public struct MultiStepSchedule: LRSchedule {
    public let milestones: [Int], gamma: Float
    public init(milestones: [Int], gamma: Float = 0.1) { self.milestones = milestones; self.gamma = gamma }
    public func factor(at step: Int) -> Float { Foundation.pow(gamma, Float(milestones.filter { step >= $0 }.count)) }
}

/// Decays by `gamma` every `stepSize` steps (PyTorch's StepLR).
public struct StepSchedule: LRSchedule {
    public let stepSize: Int, gamma: Float
    public init(stepSize: Int, gamma: Float = 0.1) { self.stepSize = stepSize; self.gamma = gamma }
    public func factor(at step: Int) -> Float { Foundation.pow(gamma, Float(step / stepSize)) }
}

/// Linear interpolation of the factor from `start` to `end` over `totalSteps` (PyTorch's LinearLR).
public struct LinearSchedule: LRSchedule {
    public let start: Float, end: Float, totalSteps: Int
    public init(start: Float, end: Float, totalSteps: Int) { self.start = start; self.end = end; self.totalSteps = totalSteps }
    public func factor(at step: Int) -> Float {
        start + (end - start) * Float(min(step, totalSteps)) / Float(max(totalSteps, 1))
    }
}

/// Linear warm-up from 0 over `warmupSteps`, then cosine decay to `finalFactor` at `totalSteps`
/// (Loshchilov & Hutter 2016, arXiv 1608.03983, without restarts).
public struct CosineSchedule: LRSchedule {
    public let totalSteps: Int, warmupSteps: Int, finalFactor: Float
    public init(totalSteps: Int, warmupSteps: Int = 0, finalFactor: Float = 0) {
        self.totalSteps = totalSteps; self.warmupSteps = warmupSteps; self.finalFactor = finalFactor
    }
    public func factor(at step: Int) -> Float {
        if step < warmupSteps { return Float(step + 1) / Float(warmupSteps) }
        let progress = Float(min(step, totalSteps) - warmupSteps) / Float(max(totalSteps - warmupSteps, 1))
        return finalFactor + (1 - finalFactor) * 0.5 * (1 + Foundation.cos(Float.pi * progress))
    }
}

/// One-cycle policy (Smith & Topin 2017, arXiv 1708.07120), cosine annealing as PyTorch's OneCycleLR:
/// from max/divFactor up to max over the first `warmupFraction` of the steps, then down to
/// max/(divFactor·finalDivFactor). The factor is relative to the maximum learning rate.
public struct OneCycleSchedule: LRSchedule {
    public let totalSteps: Int, warmupFraction: Float, divFactor: Float, finalDivFactor: Float
    public init(totalSteps: Int, warmupFraction: Float = 0.3, divFactor: Float = 25, finalDivFactor: Float = 1e4) {
        self.totalSteps = totalSteps; self.warmupFraction = warmupFraction
        self.divFactor = divFactor; self.finalDivFactor = finalDivFactor
    }
    public func factor(at step: Int) -> Float {
        let up = max(1, Int(Float(totalSteps) * warmupFraction) - 1)
        let start = 1 / divFactor, end = start / finalDivFactor
        func cosine(_ a: Float, _ b: Float, _ t: Float) -> Float { b + (a - b) * 0.5 * (1 + Foundation.cos(Float.pi * t)) }
        if step <= up { return cosine(start, 1, Float(step) / Float(up)) }
        let down = max(1, totalSteps - 1 - up)
        return cosine(1, end, Float(min(step - up, down)) / Float(down))
    }
}
