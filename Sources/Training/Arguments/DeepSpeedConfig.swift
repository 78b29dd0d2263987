#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Datasets

/// A DeepSpeed JSON configuration (the reference's `ds_configs/zero2.json`, `zero3.json`), read for
/// what svco does with it: the ZeRO stage, gradient clipping and the fp16/bf16 switches, with
/// "auto" and mismatches treated as HF Trainer treats them (`HfTrainerDeepSpeedConfig`: "auto" takes
/// the Trainer's flag; an explicit value that contradicts the flag is an error).
public struct DeepSpeedConfig: Sendable {
    /// A JSON value of the file.
    public indirect enum Value: Decodable, Sendable, Equatable, CustomStringConvertible {
        case object([String: Value]), array([Value]), number(Double), bool(Bool), string(String), null

        public init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null }
            else if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let n = try? c.decode(Double.self) { self = .number(n) }
            else if let s = try? c.decode(String.self) { self = .string(s) }
            else if let a = try? c.decode([Value].self) { self = .array(a) }
            else { self = .object(try c.decode([String: Value].self)) }
        }

        public var isAuto: Bool { self == .string("auto") }

        public var description: String {
            switch self {
            case .object: "{…}"
            case .array: "[…]"
            case .number(let n): n == n.rounded() && abs(n) < 1e15 ? "\(Int(n))" : "\(n)"
            case .bool(let b): b ? "true" : "false"
            case .string(let s): "\"\(s)\""
            case .null: "null"
            }
        }
    }

    public let path: String
    public let root: [String: Value]

    public init(file path: String) throws {
        let data: Data
        do {
            data = try FileRead.contents(of: path)
        } catch {
            throw TrainingError.invalidArguments("--deepspeed \(error)")
        }
        guard let value = try? JSONDecoder().decode(Value.self, from: data), case .object(let root) = value else {
            throw TrainingError.invalidArguments("--deepspeed \(path): not a JSON object (a DeepSpeed configuration)")
        }
        self.path = path
        self.root = root
    }

    /// The value at a dotted path (`zero_optimization.stage`), if present.
    public func value(_ dotted: String) -> Value? {
        var node = Value.object(root)
        for key in dotted.split(separator: ".") {
            guard case .object(let fields) = node, let next = fields[String(key)] else { return nil }
            node = next
        }
        return node
    }

    /// The ZeRO stage (0 when the file has no `zero_optimization` section).
    public func zeroStage() throws -> Int {
        guard let v = value("zero_optimization.stage") else { return 0 }
        guard case .number(let n) = v, n == n.rounded(), (0...3).contains(n) else {
            throw TrainingError.invalidArguments("--deepspeed \(path): zero_optimization.stage must be 0, 1, 2 or 3, not \(v)")
        }
        return Int(n)
    }
}

extension TrainingArguments {
    /// Reads `deepspeed` (when set) into these arguments: the ZeRO stage (unless `--zero-stage` was
    /// given, which must then agree), and checks its explicit fp16/bf16/clipping/batch values against
    /// the flags as HF Trainer does. Sections svco has no equivalent for (its own optimizer or
    /// scheduler) are refused rather than ignored.
    public mutating func applyDeepSpeed(explicit: Set<String>, worldSize: Int = 1) throws {
        guard let path = deepspeed else { return }
        let config = try DeepSpeedConfig(file: path)
        for section in ["optimizer", "scheduler"] where config.value(section) != nil {
            throw TrainingError.invalidArguments(
                "--deepspeed \(path): the '\(section)' section is not supported: svco uses HF Trainer's AdamW and schedule from the flags (remove the section)")
        }
        let stage = try config.zeroStage()
        if explicit.contains("zero_stage") && zeroStage != stage {
            throw TrainingError.invalidArguments("--zero-stage \(zeroStage) contradicts --deepspeed \(path) (zero_optimization.stage \(stage))")
        }
        zeroStage = stage
        try applyOffload(config, explicit: explicit)

        var mismatches: [String] = []
        func match(_ key: String, _ flagValue: DeepSpeedConfig.Value, _ flag: String) {
            guard let v = config.value(key), !v.isAuto, v != .null else { return }
            if v != flagValue { mismatches.append("ds \(key)=\(v) vs \(flag)=\(flagValue)") }
        }
        match("fp16.enabled", .bool(fp16), "--fp16")
        match(config.value("bfloat16") != nil ? "bfloat16.enabled" : "bf16.enabled", .bool(bf16), "--bf16")
        match("gradient_clipping", .number(maxGradNorm), "--max-grad-norm")
        match("train_micro_batch_size_per_gpu", .number(Double(perDeviceTrainBatchSize)), "--per-device-train-batch-size")
        match("gradient_accumulation_steps", .number(Double(gradientAccumulationSteps)), "--gradient-accumulation-steps")
        match("train_batch_size", .number(Double(worldSize * perDeviceTrainBatchSize * gradientAccumulationSteps)),
              "world size × --per-device-train-batch-size × --gradient-accumulation-steps")
        if !mismatches.isEmpty {
            throw TrainingError.invalidArguments("--deepspeed \(path): values that contradict the flags (set them to \"auto\" or make them agree): "
                + mismatches.joined(separator: "; "))
        }
    }

    /// `zero_optimization.offload_optimizer.device` ("cpu" or "none") sets `--offload-optimizer-device`
    /// (which, given too, must agree); NVMe and `offload_param` (parameters in CPU memory) svco does
    /// not do, and says so rather than train without them.
    mutating func applyOffload(_ config: DeepSpeedConfig, explicit: Set<String>) throws {
        let path = config.path
        if let device = config.value("zero_optimization.offload_param.device"), device != .string("none"), device != .null {
            throw TrainingError.invalidArguments("--deepspeed \(path): zero_optimization.offload_param.device \(device) is not supported: "
                + "svco keeps parameters on the device (ZeRO-3 shards them); set it to \"none\" or remove the section "
                + "(offload_optimizer.device \"cpu\" is supported)")
        }
        guard let device = config.value("zero_optimization.offload_optimizer.device"), device != .null else { return }
        guard case .string(let name) = device, let chosen = OffloadDevice(rawValue: name) else {
            throw TrainingError.invalidArguments("--deepspeed \(path): zero_optimization.offload_optimizer.device \(device) is not supported: "
                + "svco offloads AdamW's moments to \"cpu\" or keeps them on the device (\"none\")")
        }
        if explicit.contains("offload_optimizer_device") && offloadOptimizerDevice != chosen {
            throw TrainingError.invalidArguments("--offload-optimizer-device \(offloadOptimizerDevice.rawValue) contradicts --deepspeed \(path) "
                + "(zero_optimization.offload_optimizer.device \"\(name)\")")
        }
        offloadOptimizerDevice = chosen
    }
}
