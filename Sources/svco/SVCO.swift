import ArgumentParser
#if canImport(Glibc)
@preconcurrency import Glibc  // stdout is a C global: setvbuf needs to name it
#endif

/// The `svco` command: S-VCO finetuning and evaluation of LLaVA-family models.
@main
struct SVCO: AsyncParsableCommand {
    /// Line-buffers stdout (progress lines arrive as printed, also through a pipe or into a file),
    /// reads `svco train`'s flags as HF's argument parser would (`TrainCommand.carry`), runs the
    /// command and prints any error as one readable line. Async because `svco eval` awaits its judge.
    static func main() async {
        setvbuf(stdout, nil, _IOLBF, 0)
        var arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == TrainCommand.configuration.commandName {
            arguments = [arguments[0]] + TrainCommand.carry(Array(arguments.dropFirst()))
        }
        do {
            var command = try await asyncParseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: ReadableError.wrap(error))
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "svco",
        abstract: "Finetune and evaluate LLaVA-family vision-language models with S-VCO, on libtorch.",
        version: "0.1.0",
        subcommands: [
            TrainCommand.self, ScoreCommand.self, EvalCommand.self, PlotCommand.self, DataCommand.self, InspectCommand.self, GenerateCommand.self, TokenizeCommand.self, PreprocessCommand.self,
            InitCommand.self, SelfTestCommand.self, DownloadCommand.self, LaunchCommand.self,
        ]
    )
}
