import Foundation

/// The pinned Python peers (scripts/fetch-peers installs them under .deps the first time).
public enum PythonPeers {
    /// The package root (three folders above this file).
    public static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func path() throws -> String {
        let r = try run(repoRoot.path + "/scripts/fetch-peers", [], environment: [:])
        guard r.status == 0 else { throw PeerError(message: "scripts/fetch-peers failed: \(r.output)") }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public struct PeerError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
        public init(message: String) { self.message = message }
    }
    public struct Result { public var status: Int32; public var stdout: String; public var output: String }

    /// Runs `python3 -c script args…` with the peers on PYTHONPATH; throws on failure with its output.
    public static func python(_ script: String, _ args: [String], environment: [String: String]) throws -> String {
        var env = environment
        env["PYTHONPATH"] = try path()
        let r = try run("/usr/bin/env", ["python3", "-c", script] + args, environment: env)
        guard r.status == 0 else { throw PeerError(message: "python failed (\(r.status)): \(r.output)") }
        return r.stdout
    }

    public static func run(_ executable: String, _ args: [String], environment: [String: String]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        for key in env.keys where key.hasPrefix("HF_") || key.hasPrefix("HUGGINGFACE") { env[key] = nil }
        for (k, v) in environment { env[k] = v }
        p.environment = env
        // stderr goes to a file: reading two pipes one after the other can deadlock on a full buffer.
        let errPath = NSTemporaryDirectory() + "svco-peer-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).err"
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let out = Pipe()
        p.standardOutput = out
        p.standardError = errHandle
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        try? errHandle.close()
        let e = FileManager.default.contents(atPath: errPath) ?? Data()
        try? FileManager.default.removeItem(atPath: errPath)
        let stdout = String(decoding: o, as: UTF8.self)
        return Result(status: p.terminationStatus, stdout: stdout, output: stdout + String(decoding: e, as: UTF8.self))
    }
}

/// The svco executable SwiftPM built beside the test bundle (or $SVCO_BINARY).
public enum SVCOBinary {
    public static var path: String {
        if let p = ProcessInfo.processInfo.environment["SVCO_BINARY"] { return p }
        let products = Bundle.main.bundleURL.deletingLastPathComponent().path
        for c in [products + "/svco", PythonPeers.repoRoot.path + "/.build/debug/svco"] where FileManager.default.isExecutableFile(atPath: c) {
            return c
        }
        return PythonPeers.repoRoot.path + "/.build/debug/svco"
    }

    /// Runs svco with the process environment less HF_* variables, plus `environment`.
    public static func run(_ args: [String], environment: [String: String]) throws -> PythonPeers.Result {
        try PythonPeers.run(path, args, environment: environment)
    }
}
