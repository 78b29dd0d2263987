import Distributed
import Torch
import Training

/// What `svco train` says about where its memory goes: before training, how the reference and the
/// optimizer state are held; after it, what ZeRO-3 gathered, held and reduced.
enum TrainReport {
    static func memoryArrangement(_ trainer: SVCOTrainer, args: TrainingArguments, device: Device) -> [String] {
        var lines: [String] = []
        if trainer.referenceValuesInAutocastDType > 0, let dtype = args.autocastDType {
            let saved = Double(trainer.referenceValuesInAutocastDType * (4 - dtype.byteSize)) / 1e6
            lines.append("reference model: its linear layers (\(formatCount(trainer.referenceValuesInAutocastDType)) values) held in \(dtype), "
                + "as autocast rounds them before each matmul anyway: the same log-probs, "
                + (trainer.optimizer.zero3 == nil ? "\(format(saved, 1)) MB less" : "their ZeRO-3 shards at half the bytes"))
        }
        if args.offloadOptimizerDevice == .cpu {
            let values = trainer.optimizer.momentValues
            lines.append("optimizer state: AdamW's moments (\(formatCount(values)) values, \(format(Double(values * 4) / 1e9, 2)) GB"
                + (trainer.worldSize > 1 ? " on each rank" : "") + ") in CPU memory\(device.isCUDA ? " (pinned)" : ""), streamed through "
                + "\(device) in slices of \(formatCount(OptimizerKernels.offloadSliceValues)) values at each step: the same update")
        }
        return lines
    }

    static func zero3(_ shards: ParameterShards) -> [String] {
        guard shards.blockGathers > 0 else { return [] }
        let values = shards.blockValues
        let reduced = shards.residentReductions
        return [
            "ZeRO-3: rank 0 holds \(values.held) of the blocks' \(values.whole) parameter values; at most "
                + "\(shards.peakWholeBlocks) block(s) whole at a time, \(shards.blockGathers) block gathers "
                + "(\(shards.prefetches) started ahead, while the block before computed)",
            "ZeRO-3: rank 0's block shards: "
                + shards.blockShardValuesByDType.map { "\($0.values) values in \($0.dtype)" }.joined(separator: ", "),
            "ZeRO-3: the block gathers carried "
                + shards.gatheredValues.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) values in \($0.key)" }
                    .joined(separator: ", "),
            "ZeRO-3: gradients of the \(shards.residentParameters) trained parameters outside blocks reduced "
                + "\(reduced.inBackward) times during backward passes, \(reduced.atStep) at optimiser steps",
        ]
    }
}
