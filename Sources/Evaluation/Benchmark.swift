#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A benchmark whose public question files can be read into ``BenchmarkQuestion``s.
public protocol Benchmark: Sendable {
    /// Short name used in score keys and error messages ("mmvp", "cvbench", …).
    static var name: String { get }
    /// Reads and validates every question of the release folder, in file order.
    func questions() throws -> [BenchmarkQuestion]
}

/// A benchmark graded by rules (no judge model).
public protocol RuleGradedBenchmark: Benchmark {
    /// Scores the responses. Values are fractions in [0, 1]; keys are documented per benchmark.
    func grade(_ responses: [BenchmarkResponse]) throws -> [String: Double]
}

/// The benchmarks `svco eval --benchmark` accepts (`all` is the CLI's business).
public enum BenchmarkName: String, CaseIterable, Sendable, Codable {
    case mmvp, cvbench, realworldqa, textvqa, scienceqa, mmvet, llavabench, mmhal

    /// Whether ``makeBenchmark(dataRoot:mmvpLabelFixes:)`` returns a ``RuleGradedBenchmark``.
    public var isRuleGraded: Bool {
        switch self {
        case .mmvp, .cvbench, .realworldqa, .textvqa, .scienceqa: return true
        case .mmvet, .llavabench, .mmhal: return false
        }
    }

    /// The reader (and, for rule-graded ones, grader) for a release folder in its authors' layout.
    public func makeBenchmark(dataRoot: URL, mmvpLabelFixes: Bool = false) -> any Benchmark {
        switch self {
        case .mmvp: return MMVP(dataRoot: dataRoot, applyLabelFixes: mmvpLabelFixes)
        case .cvbench: return CVBench(dataRoot: dataRoot)
        case .realworldqa: return RealWorldQA(dataRoot: dataRoot)
        case .textvqa: return TextVQA(dataRoot: dataRoot)
        case .scienceqa: return ScienceQA(dataRoot: dataRoot)
        case .mmvet: return MMVet(dataRoot: dataRoot)
        case .llavabench: return LLaVABench(dataRoot: dataRoot)
        case .mmhal: return MMHalBench(dataRoot: dataRoot)
        }
    }
}

/// The image paths of `questions` that do not exist on disk, in order and without repeats;
/// lets the CLI refuse an incomplete release folder before loading a model.
public func missingImagePaths(_ questions: [BenchmarkQuestion]) -> [String] {
    var seen = Set<String>()
    var missing: [String] = []
    for path in questions.lazy.flatMap(\.imagePaths) where seen.insert(path).inserted {
        if !FileManager.default.fileExists(atPath: path) { missing.append(path) }
    }
    return missing
}

/// Resolves a path from a public file against a folder (paths in the files are relative).
func resolve(_ relative: String, in folder: URL) -> String {
    folder.appendingPathComponent(relative).path
}
