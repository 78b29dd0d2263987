import Torch

/// Gradient clipping over gradients sharded across ranks (ZeRO-1/2's flat shards, ZeRO-3's chunks).
enum ShardedClipping {
    /// Scales `shards` in place to a global 2-norm as `torch.nn.utils.clip_grad_norm_` does (factor
    /// min(1, maxNorm / (norm + 1e-6))) and returns the norm before clipping — the same on every rank
    /// (one all-reduce of the squared local norms).
    static func clip(_ shards: [Tensor], maxNorm: Double, group: ProcessGroup) throws -> Double {
        // In float64: a shard runs over many parameters end to end, and a float32 norm of tens of
        // thousands of elements or more drifts by ~1e-5 relative (torch's clip_grad_norm_ takes one
        // float32 norm per parameter, far shorter sums).
        let local = shards.isEmpty ? 0 : Tensor.stack(shards.map { $0.to(.float64).norm() }).norm().item().doubleValue
        let total = try group.allReduce([local * local], .sum)[0].squareRoot()
        let coefficient = Swift.min(1.0, maxNorm / (total + 1e-6))
        // torch multiplies even by 1 (and by NaN for a NaN norm, which the fp16 skip then discards).
        Autograd.noGrad {
            for s in shards { s *= Scalar(coefficient.isNaN ? Double.nan : coefficient) }
        }
        return total
    }
}
