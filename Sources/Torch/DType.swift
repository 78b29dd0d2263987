import CTorch

/// Element types svco moves through libtorch. Raw values are torch's ScalarType numbers.
public enum DType: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case uint8 = 0
    case int8 = 1
    case int16 = 2
    case int32 = 3
    case int64 = 4
    case float16 = 5
    case float32 = 6
    case float64 = 7
    case bool = 11
    case bfloat16 = 15

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .int16, .float16, .bfloat16: 2
        case .int32, .float32: 4
        case .int64, .float64: 8
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .float16, .float32, .float64, .bfloat16: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .uint8: "uint8"
        case .int8: "int8"
        case .int16: "int16"
        case .int32: "int32"
        case .int64: "int64"
        case .float16: "float16"
        case .float32: "float32"
        case .float64: "float64"
        case .bool: "bool"
        case .bfloat16: "bfloat16"
        }
    }

    /// Parses the names used in configs (`torch_dtype`) and on the command line.
    public init?(name: String) {
        switch name.lowercased() {
        case "uint8", "u8": self = .uint8
        case "int8", "i8": self = .int8
        case "int16", "i16": self = .int16
        case "int32", "int", "i32": self = .int32
        case "int64", "long", "i64": self = .int64
        case "float16", "half", "fp16", "f16": self = .float16
        case "float32", "float", "fp32", "f32": self = .float32
        case "float64", "double", "fp64", "f64": self = .float64
        case "bool": self = .bool
        case "bfloat16", "bf16": self = .bfloat16
        default: return nil
        }
    }
}

/// Swift element types that can be copied into and out of tensors.
public protocol TensorElement: Sendable {
    static var dtype: DType { get }
}

extension Float: TensorElement { public static var dtype: DType { .float32 } }
extension Double: TensorElement { public static var dtype: DType { .float64 } }
extension Int64: TensorElement { public static var dtype: DType { .int64 } }
extension Int32: TensorElement { public static var dtype: DType { .int32 } }
extension Int16: TensorElement { public static var dtype: DType { .int16 } }
extension Int8: TensorElement { public static var dtype: DType { .int8 } }
extension UInt8: TensorElement { public static var dtype: DType { .uint8 } }
extension Bool: TensorElement { public static var dtype: DType { .bool } }
#if arch(x86_64) || arch(arm64)
extension Float16: TensorElement { public static var dtype: DType { .float16 } }
#endif
/// `Int` is stored as int64 (Swift's Int is 64 bits on every platform svco supports).
extension Int: TensorElement { public static var dtype: DType { .int64 } }
