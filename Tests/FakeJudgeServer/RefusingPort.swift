#if canImport(Glibc)
import Glibc
#endif

/// A local port that refuses every connection for as long as this object lives: a socket bound to
/// 127.0.0.1 but not listening. Unlike a server that was shut down, its port cannot be taken by
/// another test's server in the meantime, so a connection attempt is certain to be refused.
public final class RefusingPort {
    public let port: Int
    private let fd: Int32

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FakeServerError("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        let named = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        guard bound == 0, named == 0 else {
            close(fd)
            throw FakeServerError("cannot bind a local port")
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// The OpenAI-style base URL on this port.
    public var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    deinit { close(fd) }
}

public struct FakeServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
