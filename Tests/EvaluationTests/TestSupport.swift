import Foundation
import Testing
@testable import Evaluation

/// Paths and helpers shared by the Evaluation tests.
enum TestSupport {
    static let testsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let fixtures = testsFolder.appendingPathComponent("Fixtures")
    static let repoRoot = testsFolder.deletingLastPathComponent().deletingLastPathComponent()
    /// The public question files (`../shared/benchmarks` beside the checkout).
    static let sharedBenchmarks = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/benchmarks")

    static var sharedPresent: Bool {
        FileManager.default.fileExists(atPath: sharedBenchmarks.path)
    }

    /// Run the real-file tests when the folder is there, and always in CI (where its absence must
    /// fail); elsewhere they are skipped with this message.
    static var runRealFileTests: Bool {
        sharedPresent || ProcessInfo.processInfo.environment["CI"] != nil
    }

    static func shared(_ folder: String) throws -> URL {
        let url = sharedBenchmarks.appendingPathComponent(folder)
        try #require(FileManager.default.fileExists(atPath: url.path), "missing \(url.path)")
        return url
    }

    /// A fresh temporary folder holding the given files.
    static func folder(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("svco-eval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, text) in files {
            let url = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        return dir
    }

    /// The message of the error `body` throws, or nil if it throws none.
    static func errorMessage(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            return (error as? LocalizedError)?.errorDescription ?? "\(error)"
        }
    }
}

/// Compares doubles to 1e-12 (all expected scores are exact small fractions).
func close(_ a: Double?, _ b: Double) -> Bool {
    guard let a else { return false }
    return abs(a - b) < 1e-12
}
