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
        commandName: "data", abstract: "Fetch, build (similarity, filter, augment), split and check MVC-format datasets.",
        subcommands: [DataFetchCommand.self, DataSimilarityCommand.self, DataFilterCommand.self, DataAugmentCommand.self, DataSplitCommand.self,
                      DataCheckCommand.self])
}

/// `svco data split`: seeded shuffle, then `--val-num` records to the validation file.
struct DataSplitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "split", abstract: "Split records into train and validation files.")

    @Option(help: "MVC JSON records.") var input: String
    @Option(parsing: .unconditional, help: "Validation records.") var valNum = 240
    @Option(parsing: .unconditional, help: "Seed of the shuffle.") var seed: UInt64 = 42
    @Option(help: "Output training file (written atomically).") var trainFile: String
    @Option(help: "Output validation file (written atomically).") var valFile: String

    func validate() throws {
        if valNum < 0 { throw ValidationError("--val-num must not be negative") }
    }

    func run() throws {
        // Validate every record (errors name record and key), but keep paths as written.
        _ = try MVCDataset(file: input, allowOutsideRoot: true)
        let records = try JSONDecoder().decode([MVCRecord].self, from: FileRead.contents(of: input))
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
    @Option(help: "Folder relative image paths resolve against (default: the data file's folder).") var imageRoot: String?
    @Flag(help: "Allow image paths (after resolving symbolic links) outside the image root.") var allowOutsideRoot = false
    @Option(parsing: .unconditional, help: "Maximum tokens per sequence, as svco train's --model-max-length.") var modelMaxLength = 128

    func validate() throws {
        if modelMaxLength < 1 { throw ValidationError("--model-max-length must be at least 1") }
    }

    /// The same checks `svco train` makes before step 1 (`DatasetPreflight`), as a report.
    func run() throws {
        let model = try resolveModel(self.model)
        let llava = try ModelRegistry.load(directory: model)
        let builder = try ModelInputs.batchBuilder(modelDirectory: model, model: llava, maxLength: modelMaxLength)
        let records = try MVCDataset(file: data, imageRoot: imageRoot, allowOutsideRoot: allowOutsideRoot).records
        let badImages = DatasetPreflight.badImages(records)
        let (unscored, truncated, longest) = try DatasetPreflight.unscoredRecords(records, collator: builder.collator,
                                                                                   kinds: SequenceKind.allCases)
        print("\(data): \(records.count) records, \(records.count * 6) sequences, longest \(longest) tokens (limit \(modelMaxLength))")
        print("  truncated sequences: \(truncated); records with a sequence whose response was cut away entirely: \(unscored.count)")
        if !unscored.isEmpty { print("    " + DatasetPreflight.describe(unscored)) }
        print("  unreadable images: \(badImages.count)")
        for line in DatasetPreflight.describe(badImages) { print("    \(line)") }
        if !badImages.isEmpty || !unscored.isEmpty { throw ExitCode.failure }
    }
}
