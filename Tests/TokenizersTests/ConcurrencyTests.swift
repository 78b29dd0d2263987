import Foundation
import Testing
@testable import Tokenizers

/// One tokenizer shared by many threads (its BPE cache is shared too) gives the same results as
/// sequential use.
@Suite struct ConcurrencyTests {
    @Test func sharedTokenizerAcrossTasks() async throws {
        let tok = try Tokenizer(ggufFile: try TestSupport.asset("ggml-vocab-llama-spm.gguf"))
        let strings = try TestSupport.realStrings()
        let fresh = try Tokenizer(ggufFile: try TestSupport.asset("ggml-vocab-llama-spm.gguf"))
        let sequential = strings.map { fresh.encode($0) }
        let results = await withTaskGroup(of: (Int, [Encoding]).self) { group in
            for worker in 0..<4 {
                group.addTask {
                    // Each worker walks the strings from a different start, so cache fills interleave.
                    let order = (0..<strings.count).map { (($0 + worker * 517) % strings.count) }
                    var out = [Encoding](repeating: Encoding(ids: [], offsets: []), count: strings.count)
                    for i in order { out[i] = tok.encode(strings[i]) }
                    return (worker, out)
                }
            }
            var all: [[Encoding]] = []
            for await (_, r) in group { all.append(r) }
            return all
        }
        #expect(results.count == 4)
        for r in results { #expect(r == sequential) }
    }
}
