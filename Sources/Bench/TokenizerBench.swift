#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Tokenizers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tokenizer throughput, comparable with `bench/tokenizers/reference.py` (Python `tokenizers`,
/// one thread): the text is split into documents at blank lines, each document is encoded with
/// special tokens and offsets on one thread, and the best of five passes is reported.
enum TokenizerBench {
    /// Returns MB/s (10⁶ bytes of UTF-8 input per second) and prints a summary line.
    static func run(textFile: String, tokenizerDirectory: String) throws -> Double {
        let data = try Data(contentsOf: URL(fileURLWithPath: textFile))
        // Split on bytes, as Python's str.split("\n\n") does ("\r\n" is one Swift Character).
        let raw = [UInt8](data)
        var documents: [String] = []
        var start = 0, i = 0
        while i + 1 < raw.count {
            if raw[i] == 0x0A && raw[i + 1] == 0x0A {
                documents.append(String(decoding: raw[start..<i], as: UTF8.self))
                i += 2
                start = i
            } else {
                i += 1
            }
        }
        documents.append(String(decoding: raw[start...], as: UTF8.self))
        let bytes = documents.reduce(0) { $0 + $1.utf8.count }
        let loadStart = now()
        let tokenizer = try Tokenizer(directory: tokenizerDirectory)
        let loadSeconds = now() - loadStart
        var best = Double.infinity
        var tokens = 0
        for _ in 0..<5 {
            let start = now()
            tokens = 0
            for d in documents { tokens += tokenizer.encode(d).ids.count }
            best = min(best, now() - start)
        }
        let mbps = Double(bytes) / best / 1e6
        print("tokenizer: \(fmt(mbps)) MB/s (\(bytes) bytes, \(documents.count) documents, \(tokens) tokens, "
              + "best of 5: \(fmt(best)) s; load \(fmt(loadSeconds)) s)")
        return mbps
    }

    private static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    private static func fmt(_ x: Double) -> String {
        let scaled = (x * 1000).rounded() / 1000
        return "\(scaled)"
    }
}
