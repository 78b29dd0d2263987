import ArgumentParser

/// The `svco` command: S-VCO finetuning and evaluation of LLaVA-family models.
@main
struct SVCO: AsyncParsableCommand {
    /// Expands `svco train --config FILE` before parsing; everything else goes to ArgumentParser.
    /// Async because `svco eval` awaits its judge requests.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            let expanded = try ConfigFileArguments.expand(arguments)
            await main(expanded)
        } catch {
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "svco",
        abstract: "Finetune and evaluate LLaVA-family vision-language models with S-VCO, on libtorch.",
        version: "0.1.0",
        subcommands: [
            TrainCommand.self, ScoreCommand.self, EvalCommand.self, PlotCommand.self, DataCommand.self, InspectCommand.self, GenerateCommand.self, TokenizeCommand.self, PreprocessCommand.self,
            SelfTestCommand.self, LaunchCommand.self,
        ]
    )
}
