/// Calls around each repeated block of a model (a decoder layer, a vision encoder layer), in forward
/// and — under gradient checkpointing — in backward: the seam ZeRO-3 uses to gather a block's sharded
/// parameters just before it runs and to free them (and reduce their gradients) right after.
///
/// Order for a block: `willRun` then `didRun` around every evaluation of it — the forward pass, and
/// under gradient checkpointing the recomputation inside the backward pass — then, for a
/// checkpointed block, `didBackward` once the backward pass through it has finished.
public protocol LayerHooks: AnyObject {
    /// Before `block` computes: its parameters must hold their full values after this returns.
    /// `next`: the block the forward pass runs after it (nil after the last one it runs), which may
    /// be made ready while this one computes.
    func willRun(_ block: Module, next: Module?)
    /// After `block` computed. With gradient recording off (a frozen model, a checkpoint's first
    /// run) nothing will read its parameters again in this pass.
    func didRun(_ block: Module)
    /// After the backward pass through a checkpointed `block`: its parameters' `.grad` are complete.
    func didBackward(_ block: Module)
}

/// A module made of repeated blocks that runs `layerHooks` around each one.
public protocol LayeredModule: Module {
    /// The blocks in the order they run.
    var blocks: [Module] { get }
    var layerHooks: (any LayerHooks)? { get set }
}

extension Module {
    /// Every `LayeredModule` in this module's tree (this one included), depth-first.
    public var layeredModules: [any LayeredModule] {
        var out: [any LayeredModule] = []
        if let layered = self as? any LayeredModule { out.append(layered) }
        for (_, entry) in entries {
            if case .module(let child) = entry { out += child.layeredModules }
        }
        return out
    }
}
