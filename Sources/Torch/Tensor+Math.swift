import CTorch

/// Elementwise binary operations of the shim (`CT_ADD` …), by name.
enum BinaryOp: Int32 {
    case add, sub, mul, div, pow, maximum, minimum, remainder
    case eq, ne, lt, le, gt, ge, logicalAnd, logicalOr, atan2
    var name: StaticString {
        switch self {
        case .add: "add"
        case .sub: "sub"
        case .mul: "mul"
        case .div: "div"
        case .pow: "pow"
        case .maximum: "maximum"
        case .minimum: "minimum"
        case .remainder: "remainder"
        case .eq: "eq"
        case .ne: "ne"
        case .lt: "lt"
        case .le: "le"
        case .gt: "gt"
        case .ge: "ge"
        case .logicalAnd: "logical_and"
        case .logicalOr: "logical_or"
        case .atan2: "atan2"
        }
    }
}

/// Elementwise unary operations of the shim (`CT_NEG` …), in the header's order.
enum UnaryOp: Int32 {
    case neg, exp, log, sqrt, rsqrt, abs, tanh, sigmoid, logSigmoid
    case relu, silu, gelu, geluTanh, quickGelu, sin, cos, logicalNot
    case floor, ceil, round, sign, reciprocal, isnan, isinf, isfinite
    case log1p, expm1, square
}

extension Tensor {
    @inline(__always)
    func binary(_ op: BinaryOp, _ other: Tensor) -> Tensor {
        TorchOp.result(ct_binary(op.rawValue, handle, other.handle), op.name, [self, other])
    }
    @inline(__always)
    func binary(_ op: BinaryOp, _ other: Scalar) -> Tensor {
        TorchOp.result(ct_binary_scalar(op.rawValue, handle, other.raw), op.name, [self])
    }
    @inline(__always)
    func unary(_ op: UnaryOp, _ name: StaticString) -> Tensor {
        TorchOp.result(ct_unary(op.rawValue, handle), name, [self])
    }

    // MARK: arithmetic (broadcasting, PyTorch type promotion)

    public static func + (a: Tensor, b: Tensor) -> Tensor { a.binary(.add, b) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { a.binary(.sub, b) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { a.binary(.mul, b) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { a.binary(.div, b) }
    public static func + (a: Tensor, b: Scalar) -> Tensor { a.binary(.add, b) }
    public static func - (a: Tensor, b: Scalar) -> Tensor { a.binary(.sub, b) }
    public static func * (a: Tensor, b: Scalar) -> Tensor { a.binary(.mul, b) }
    public static func / (a: Tensor, b: Scalar) -> Tensor { a.binary(.div, b) }
    public static func + (a: Tensor, b: Double) -> Tensor { a.binary(.add, Scalar(b)) }
    public static func - (a: Tensor, b: Double) -> Tensor { a.binary(.sub, Scalar(b)) }
    public static func * (a: Tensor, b: Double) -> Tensor { a.binary(.mul, Scalar(b)) }
    public static func / (a: Tensor, b: Double) -> Tensor { a.binary(.div, Scalar(b)) }
    // Int and Double overloads let literals pick their natural kind (`t + 1` integer, `t * 0.5` float).
    public static func + (a: Tensor, b: Int) -> Tensor { a.binary(.add, Scalar(b)) }
    public static func - (a: Tensor, b: Int) -> Tensor { a.binary(.sub, Scalar(b)) }
    public static func * (a: Tensor, b: Int) -> Tensor { a.binary(.mul, Scalar(b)) }
    public static func / (a: Tensor, b: Int) -> Tensor { a.binary(.div, Scalar(b)) }
    public static func + (a: Scalar, b: Tensor) -> Tensor { b.binary(.add, a) }
    public static func * (a: Scalar, b: Tensor) -> Tensor { b.binary(.mul, a) }
    public static func - (a: Scalar, b: Tensor) -> Tensor {
        TorchOp.result(ct_scalar_binary(BinaryOp.sub.rawValue, a.raw, b.handle), "rsub", [b])
    }
    public static func / (a: Scalar, b: Tensor) -> Tensor {
        TorchOp.result(ct_scalar_binary(BinaryOp.div.rawValue, a.raw, b.handle), "rdiv", [b])
    }
    public static prefix func - (a: Tensor) -> Tensor { a.neg() }

    public func pow(_ exponent: Scalar) -> Tensor { binary(.pow, exponent) }
    public func pow(_ exponent: Tensor) -> Tensor { binary(.pow, exponent) }
    public func maximum(_ other: Tensor) -> Tensor { binary(.maximum, other) }
    public func minimum(_ other: Tensor) -> Tensor { binary(.minimum, other) }
    public func remainder(_ other: Scalar) -> Tensor { binary(.remainder, other) }

    // MARK: comparisons (bool results)

    public func eq(_ other: Tensor) -> Tensor { binary(.eq, other) }
    public func eq(_ other: Scalar) -> Tensor { binary(.eq, other) }
    public func ne(_ other: Tensor) -> Tensor { binary(.ne, other) }
    public func ne(_ other: Scalar) -> Tensor { binary(.ne, other) }
    public func lt(_ other: Tensor) -> Tensor { binary(.lt, other) }
    public func lt(_ other: Scalar) -> Tensor { binary(.lt, other) }
    public func le(_ other: Tensor) -> Tensor { binary(.le, other) }
    public func le(_ other: Scalar) -> Tensor { binary(.le, other) }
    public func gt(_ other: Tensor) -> Tensor { binary(.gt, other) }
    public func gt(_ other: Scalar) -> Tensor { binary(.gt, other) }
    public func ge(_ other: Tensor) -> Tensor { binary(.ge, other) }
    public func ge(_ other: Scalar) -> Tensor { binary(.ge, other) }
    public func logicalAnd(_ other: Tensor) -> Tensor { binary(.logicalAnd, other) }
    public func logicalOr(_ other: Tensor) -> Tensor { binary(.logicalOr, other) }
    public func logicalNot() -> Tensor { unary(.logicalNot, "logical_not") }
    /// `torch.allclose`.
    public func allClose(_ other: Tensor, rtol: Double = 1e-5, atol: Double = 1e-8) -> Bool {
        let r = ct_allclose(handle, other.handle, rtol, atol)
        if r < 0 { TorchOp.fail("allclose", [self, other]) }
        return r == 1
    }

    // MARK: unary functions

    public func neg() -> Tensor { unary(.neg, "neg") }
    public func exp() -> Tensor { unary(.exp, "exp") }
    public func log() -> Tensor { unary(.log, "log") }
    public func log1p() -> Tensor { unary(.log1p, "log1p") }
    public func expm1() -> Tensor { unary(.expm1, "expm1") }
    public func sqrt() -> Tensor { unary(.sqrt, "sqrt") }
    public func rsqrt() -> Tensor { unary(.rsqrt, "rsqrt") }
    public func square() -> Tensor { unary(.square, "square") }
    public func abs() -> Tensor { unary(.abs, "abs") }
    public func tanh() -> Tensor { unary(.tanh, "tanh") }
    public func sigmoid() -> Tensor { unary(.sigmoid, "sigmoid") }
    /// log σ(x), computed stably.
    public func logSigmoid() -> Tensor { unary(.logSigmoid, "log_sigmoid") }
    public func relu() -> Tensor { unary(.relu, "relu") }
    public func sin() -> Tensor { unary(.sin, "sin") }
    public func cos() -> Tensor { unary(.cos, "cos") }
    public func floor() -> Tensor { unary(.floor, "floor") }
    public func ceil() -> Tensor { unary(.ceil, "ceil") }
    public func round() -> Tensor { unary(.round, "round") }
    public func sign() -> Tensor { unary(.sign, "sign") }
    public func reciprocal() -> Tensor { unary(.reciprocal, "reciprocal") }
    public func isNaN() -> Tensor { unary(.isnan, "isnan") }
    public func isInf() -> Tensor { unary(.isinf, "isinf") }
    public func isFinite() -> Tensor { unary(.isfinite, "isfinite") }

    public func clamp(min: Scalar? = nil, max: Scalar? = nil) -> Tensor {
        TorchOp.result(ct_clamp(handle, (min ?? 0).raw, min == nil ? 0 : 1, (max ?? 0).raw, max == nil ? 0 : 1),
                       "clamp", [self])
    }

    // MARK: in place

    public static func += (a: Tensor, b: Tensor) { TorchOp.status(ct_binary_(BinaryOp.add.rawValue, a.handle, b.handle), "add_", [a, b]) }
    public static func -= (a: Tensor, b: Tensor) { TorchOp.status(ct_binary_(BinaryOp.sub.rawValue, a.handle, b.handle), "sub_", [a, b]) }
    public static func *= (a: Tensor, b: Tensor) { TorchOp.status(ct_binary_(BinaryOp.mul.rawValue, a.handle, b.handle), "mul_", [a, b]) }
    public static func /= (a: Tensor, b: Tensor) { TorchOp.status(ct_binary_(BinaryOp.div.rawValue, a.handle, b.handle), "div_", [a, b]) }
    public static func += (a: Tensor, b: Scalar) { TorchOp.status(ct_binary_scalar_(BinaryOp.add.rawValue, a.handle, b.raw), "add_", [a]) }
    public static func *= (a: Tensor, b: Scalar) { TorchOp.status(ct_binary_scalar_(BinaryOp.mul.rawValue, a.handle, b.raw), "mul_", [a]) }
    /// self += alpha * other, in place.
    public func addScaled_(_ other: Tensor, alpha: Scalar) {
        TorchOp.status(ct_add_scaled_(handle, other.handle, alpha.raw), "add_", [self, other])
    }
    public func fill_(_ value: Scalar) { TorchOp.status(ct_fill_(handle, value.raw), "fill_", [self]) }
    public func zero_() { TorchOp.status(ct_zero_(handle), "zero_", [self]) }

    // MARK: linear algebra

    public func matmul(_ other: Tensor) -> Tensor { TorchOp.result(ct_matmul(handle, other.handle), "matmul", [self, other]) }
    public func bmm(_ other: Tensor) -> Tensor { TorchOp.result(ct_bmm(handle, other.handle), "bmm", [self, other]) }
}
