#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The global functions a chat template can call: jinja2's `range`, `namespace`, `dict` and
/// HF's `raise_exception` and `strftime_now`.
enum JinjaGlobals {
    /// jinja2's sandbox refuses ranges longer than this (`MAX_RANGE`).
    static let maxRange = 100_000

    static let all: [String: JinjaValue] = [
        "range": .function(JinjaFunction(name: "range") { args, _ in try range(args) }),
        "namespace": .function(JinjaFunction(name: "namespace") { args, kwargs in
            var attributes = JinjaDict()
            for a in args {
                guard case let .dict(d) = a else {
                    throw JinjaRuntimeError.message("namespace() positional argument must be a dict")
                }
                for (k, v) in d.pairs { attributes[k] = v }
            }
            for (k, v) in kwargs { attributes[k] = v }
            return .namespace(JinjaNamespace(attributes))
        }),
        "dict": .function(JinjaFunction(name: "dict") { args, kwargs in
            var d = JinjaDict()
            for a in args {
                guard case let .dict(other) = a else { throw JinjaRuntimeError.message("dict() argument must be a dict") }
                for (k, v) in other.pairs { d[k] = v }
            }
            for (k, v) in kwargs { d[k] = v }
            return .dict(d)
        }),
        "raise_exception": .function(JinjaFunction(name: "raise_exception") { args, kwargs in
            let message = args.first ?? kwargs.first { $0.0 == "message" }?.1 ?? .string("")
            throw JinjaRuntimeError.raised(message.pythonString)
        }),
        "strftime_now": .function(JinjaFunction(name: "strftime_now") { args, _ in
            guard case let .string(format)? = args.first else {
                throw JinjaRuntimeError.message("strftime_now() needs a format string")
            }
            return .string(strftimeNow(format))
        }),
    ]

    private static func range(_ args: [JinjaValue]) throws -> JinjaValue {
        var ints: [Int] = []
        for a in args {
            guard case let .int(i)? = a.numericValue, !(a.isDoubleValue) else {
                throw JinjaRuntimeError.message("'\(a.typeName)' object cannot be interpreted as an integer")
            }
            ints.append(i)
        }
        let (start, stop, step): (Int, Int, Int)
        switch ints.count {
        case 1: (start, stop, step) = (0, ints[0], 1)
        case 2: (start, stop, step) = (ints[0], ints[1], 1)
        case 3: (start, stop, step) = (ints[0], ints[1], ints[2])
        default: throw JinjaRuntimeError.message("range expected 1 to 3 arguments, got \(ints.count)")
        }
        guard step != 0 else { throw JinjaRuntimeError.message("range() arg 3 must not be zero") }
        let count = step > 0 ? (stop > start ? (stop - start + step - 1) / step : 0)
            : (start > stop ? (start - stop - step - 1) / -step : 0)
        guard count <= maxRange else {
            throw JinjaRuntimeError.message("Range too big. The sandbox blocks ranges larger than MAX_RANGE (\(maxRange)).")
        }
        return .list((0..<count).map { .int(start + $0 * step) })
    }

    /// Python's `datetime.now().strftime(format)` through the C library (local time).
    static func strftimeNow(_ format: String) -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 512)
        let n = strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension JinjaValue {
    fileprivate var isDoubleValue: Bool {
        if case .double = self { return true }
        return false
    }
}
