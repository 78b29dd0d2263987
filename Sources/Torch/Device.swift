import CTorch

/// Where a tensor lives.
public enum Device: Sendable, Hashable, CustomStringConvertible {
    case cpu
    case cuda(Int)

    var code: Int32 {
        switch self {
        case .cpu: -1
        case .cuda(let index): Int32(index)
        }
    }

    init(code: Int32) {
        self = code < 0 ? .cpu : .cuda(Int(code))
    }

    public var isCUDA: Bool { if case .cuda = self { true } else { false } }

    public var description: String {
        switch self {
        case .cpu: "cpu"
        case .cuda(let index): "cuda:\(index)"
        }
    }

    /// Parses `cpu`, `cuda` (device 0) and `cuda:N`.
    public init?(name: String) {
        if name == "cpu" {
            self = .cpu
        } else if name == "cuda" {
            self = .cuda(0)
        } else if name.hasPrefix("cuda:"), let index = Int(name.dropFirst(5)), index >= 0 {
            self = .cuda(index)
        } else {
            return nil
        }
    }
}
