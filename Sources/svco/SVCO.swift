import ArgumentParser

/// The `svco` command: S-VCO finetuning and evaluation of LLaVA-family models.
@main
struct SVCO: ParsableCommand {
    /// Expands `svco train --config FILE` before parsing; everything else goes to ArgumentParser.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            let expanded = try ConfigFileArguments.expand(arguments)
            main(expanded)
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
            SelfTestCommand.self,
        ]
    )
}
