import AtomicFiles
import ArgumentParser
import Datasets
import Images
import Models
import Torch
import Training
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `svco data …`: dataset utilities.
struct DataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Build (similarity, filter, augment), split and check MVC-format datasets.",
        subcommands: [DataSimilarityCommand.self, DataFilterCommand.self, DataAugmentCommand.self, DataSplitCommand.self, DataCheckCommand.self])
}

/// `svco data split`: seeded shuffle, then `--val-num` records to the validation file.
struct DataSplitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "split", abstract: "Split records into train and validation files.")

    @Option(help: "MVC JSON records.") var input: String
    @Option(help: "Validation records.") var valNum = 240
    @Option var seed: UInt64 = 42
    @Option(help: "Output training file (written atomically).") var trainFile: String
    @Option(help: "Output validation file (written atomically).") var valFile: String

    func validate() throws {
        if valNum < 0 { throw ValidationError("--val-num must not be negative") }
    }

    func run() throws {
        // Validate every record (errors name record and key), but keep paths as written.
        _ = try MVCDataset(file: input, allowOutsideRoot: true)
        let records = try JSONDecoder().decode([MVCRecord].self, from: Data(contentsOf: URL(fileURLWithPath: input)))
        guard valNum <= records.count else { throw CLIError("--val-num \(valNum) exceeds the \(records.count) records of \(input)") }
        let (train, validation) = MVCDataset.split(records, validationCount: valNum, seed: seed)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(to: trainFile) { try $0.write(Array(try encoder.encode(train))) }
        try AtomicFile.write(to: valFile) { try $0.write(Array(try encoder.encode(validation))) }
        print("\(train.count) training records → \(trainFile); \(validation.count) validation records → \(valFile)")
    }
}

/// `svco data check`: a pre-flight report of what training would see.
struct DataCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Report missing or corrupt images and truncated sequences before training.")

    @Option(help: "The model folder (tokenizer, chat template, image processor).") var model: String
    @Option(help: "MVC JSON records.") var data: String
    @Option var imageRoot: String?
    @Flag var allowOutsideRoot = false
    @Option var modelMaxLength = 128

    func run() throws {
        let llava = try ModelRegistry.load(directory: model)
        let builder = try ModelInputs.batchBuilder(modelDirectory: model, model: llava, maxLength: modelMaxLength)
        let records = try MVCDataset(file: data, imageRoot: imageRoot, allowOutsideRoot: allowOutsideRoot).records
        var badImages: [String: String] = [:]
        var truncated = 0, lost = 0, longest = 0
        for (index, record) in records.enumerated() {
            for path in Set(record.chosenImages + record.rejectedImages) where badImages[path] == nil {
                do { _ = try builder.pixels(path) } catch { badImages[path] = "record \(index): \(error)" }
            }
            for s in try builder.collator.sequences(record) {
                longest = max(longest, s.ids.count)
                if s.truncated { truncated += 1 }
                if s.responseLost { lost += 1 }
            }
        }
        print("\(data): \(records.count) records, \(records.count * 6) sequences, longest \(longest) tokens (limit \(modelMaxLength))")
        print("  truncated sequences: \(truncated); sequences whose response was cut away entirely: \(lost)")
        print("  unreadable images: \(badImages.count)")
        for (_, message) in badImages.sorted(by: { $0.key < $1.key }).prefix(20) { print("    \(message)") }
        if !badImages.isEmpty || lost > 0 { throw ExitCode.failure }
    }
}
