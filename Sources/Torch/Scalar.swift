import CTorch

/// A number handed to torch with its kind, so that `intTensor + 1` stays integer and
/// `intTensor * 0.5` promotes exactly as in Python.
public struct Scalar: Sendable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, CustomStringConvertible
{
    let raw: ct_scalar

    public init(_ value: Double) { raw = ct_scalar(f: value, i: Int64(exactly: value.rounded(.towardZero)) ?? 0, kind: 0) }
    public init(_ value: Float) { self.init(Double(value)) }
    public init(_ value: Int) { raw = ct_scalar(f: Double(value), i: Int64(value), kind: 1) }
    public init(_ value: Bool) { raw = ct_scalar(f: value ? 1 : 0, i: value ? 1 : 0, kind: 2) }
    public init(integerLiteral value: Int) { self.init(value) }
    public init(floatLiteral value: Double) { self.init(value) }
    public init(booleanLiteral value: Bool) { self.init(value) }
    init(raw: ct_scalar) { self.raw = raw }

    public var isFloatingPoint: Bool { raw.kind == 0 }
    public var doubleValue: Double { raw.f }
    public var intValue: Int { raw.kind == 0 ? Int(exactly: raw.f.rounded(.towardZero)) ?? 0 : Int(raw.i) }
    public var boolValue: Bool { raw.kind == 0 ? raw.f != 0 : raw.i != 0 }

    public var description: String {
        switch raw.kind {
        case 1: "\(raw.i)"
        case 2: raw.i != 0 ? "true" : "false"
        default: "\(raw.f)"
        }
    }
}
