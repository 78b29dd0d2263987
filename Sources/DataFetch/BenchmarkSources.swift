import Hub
import Images
import Parquet
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `svco data fetch benchmarks`: the eight benchmarks' images, from where the reference's
/// `prepare_benchmark_data.sh` gets them, plus the question files from the reference repository
/// (pinned commit, sha256-checked), laid out as `svco eval --data-root DIR --benchmark all` reads them:
///
///     mmhal/        mmhal-bench_answer_template.json, images/<image_id>.jpg (from each image_src URL)
///     mmvet/        mm-vet.json, images/ (MM-Vet's release zip)
///     llavabench/   questions.jsonl, answers_gpt4.jsonl, context.jsonl, llavabench_gpt_review_rule.json,
///                   images/ (Hub dataset liuhaotian/llava-bench-in-the-wild)
///     cvbench/      cvbench_test.jsonl, img/ (Hub dataset nyu-visionx/CV-Bench)
///     mmvp/         Questions.csv, "MMVP Images/" (Hub dataset MMVP/MMVP)
///     realworldqa/  llava_test_realworldqa.jsonl, <n>.webp (Hub dataset xai-org/RealworldQA's parquet
///                   files; row n, counted from 1 in file order, saved as Pillow saves WebP)
///     textvqa/      llava_textvqa_val_v051_ocr.jsonl, TextVQA_0.5.1_val.json, train_images/
///     scienceqa/    llava_test_CQM-A.json, images/test/ (ScienceQA's test.zip: the only split evaluated)
public enum BenchmarkSources {
    public static let names = ["mmhal", "mmvet", "llavabench", "cvbench", "mmvp", "realworldqa", "textvqa", "scienceqa"]

    /// Files of the reference repository: (benchmark, file name, path in the repository, sha256).
    static let questionFiles: [(String, String, String, String)] = [
        ("mmvp", "Questions.csv", "eval_vlm/playground/data/eval/MMVP/Questions.csv",
         "f10b751410b678f8c922124c2b6dd0d6370d78d3dffc9e83458d109b0746e12f"),
        ("cvbench", "cvbench_test.jsonl", "eval_vlm/playground/data/eval/cvbench/cvbench_test.jsonl",
         "b03366d27214e325e0e1646b4add5f33b1920388d1a5e4ecf5bc0b06f3ceb187"),
        ("llavabench", "questions.jsonl", "eval_vlm/playground/data/eval/llava-bench-in-the-wild/questions.jsonl",
         "a80b369a4b629f79f8c0f9a2aa9b565f0cfe34734d3bcdd30cb4e38712c07e21"),
        ("llavabench", "answers_gpt4.jsonl", "eval_vlm/playground/data/eval/llava-bench-in-the-wild/answers_gpt4.jsonl",
         "f8af161127fedaa11575ee5f70cee0b4ea9e183c5824b5d47cb2b63bba9bf691"),
        ("llavabench", "context.jsonl", "eval_vlm/playground/data/eval/llava-bench-in-the-wild/context.jsonl",
         "3bd0087816e69c36904f5760d10b80bf6d2b2c60c916fc5520d45c9737a87dbc"),
        ("llavabench", "llavabench_gpt_review_rule.json", "eval_vlm/llava/eval/llavabench_gpt_review_rule.json",
         "dd7345a44ce9f7a24e51a30ee030cdab32346f9d08e3359c80545ff1312b1e07"),
        ("mmvet", "mm-vet.json", "eval_vlm/playground/data/eval/mm-vet/mm-vet.json",
         "6eced3121b9865098ea72aca233ca5ff7fd7b81374494d878815b9f856442d8e"),
        ("mmhal", "mmhal-bench_answer_template.json", "eval_vlm/playground/data/eval/halbench/RLHF-V/eval/data/mmhal-bench_answer_template.json",
         "28ed24e19ffef292597c35f1dad37760b2e0a088b3b40ca3b50f105fc1b951bb"),
        ("realworldqa", "llava_test_realworldqa.jsonl", "eval_vlm/playground/data/eval/realworldqa/llava_test_realworldqa.jsonl",
         "49c6ec915c0903e31eb45aeb3391db511412dd025dd458e5fe3374190af3adbc"),
        ("scienceqa", "llava_test_CQM-A.json", "eval_vlm/playground/data/eval/scienceqa/llava_test_CQM-A.json",
         "a2dc5ea9fba561b0d0d8ecc80e688d3b0e1ff308e06c4f4f94cff86b20ec2f0a"),
        ("textvqa", "TextVQA_0.5.1_val.json", "eval_vlm/playground/data/eval/textvqa/TextVQA_0.5.1_val.json",
         "4ceb5aadc1a41719d0a3e4dfdf06838bcfee1db569a9a65ee67d31c99893081d"),
        ("textvqa", "llava_textvqa_val_v051_ocr.jsonl", "eval_vlm/playground/data/eval/textvqa/llava_textvqa_val_v051_ocr.jsonl",
         "9f60db6fb89e369263ed676dc26b48d00d4a462e73f0930c09d23394e9dcf3a3"),
    ]

    static let mmVetZip = "https://github.com/yuweihao/MM-Vet/releases/download/v1/mm-vet.zip"
    static let textVQAZip = "https://dl.fbaipublicfiles.com/textvqa/images/train_val_images.zip"
    static let scienceQATestZip = "https://scienceqa.s3.us-west-1.amazonaws.com/images/test.zip"

    /// Fetches `only` (default: all eight) into `context.output`.
    public static func fetch(_ context: FetchContext, only: [String] = names) async throws {
        for name in only where !names.contains(name) {
            throw FetchError("unknown benchmark '\(name)' (known: \(names.joined(separator: ", ")))")
        }
        let out = context.output
        for name in names where only.contains(name) {
            context.log("== \(name)")
            let folder = out + "/" + name
            try FileSystem.makeDirectories(folder)
            for (bench, file, path, sha) in questionFiles where bench == name {
                try await context.download("https://raw.githubusercontent.com/s-vco/s-vco/\(MVCSources.referenceCommit)/\(path)",
                                           to: folder + "/" + file, sha256: sha, label: "\(name)/\(file)")
            }
            switch name {
            case "mmhal": try await mmhalImages(folder, context: context)
            case "mmvet":
                try await archive(mmVetZip, name: "mm-vet.zip", into: folder, context: context) { entry in
                    entry.hasPrefix("mm-vet/images/") ? String(entry.dropFirst("mm-vet/".count)) : nil
                }
            case "llavabench": try await context.hubDataset("liuhaotian/llava-bench-in-the-wild", include: ["images/*"], into: folder)
            case "cvbench": try await context.hubDataset("nyu-visionx/CV-Bench", include: ["img/*"], into: folder)
            case "mmvp": try await context.hubDataset("MMVP/MMVP", include: ["MMVP Images/*"], into: folder)
            case "realworldqa": try await realWorldQA(folder, context: context)
            case "textvqa":
                try await archive(textVQAZip, name: "train_val_images.zip", into: folder, context: context) { entry in
                    entry.hasPrefix("train_images/") ? entry : nil
                }
            case "scienceqa":
                try await archive(scienceQATestZip, name: "test.zip", into: folder + "/images", context: context) { $0 }
            default: break
            }
        }
        context.log("done: \(out) (svco eval --data-root \(out) --benchmark all)")
    }

    /// Downloads an archive into `<output>/.downloads`, unpacks the entries `map` keeps, then deletes the
    /// archive (as the reference script does); the unpack marker makes a rerun skip both.
    static func archive(_ url: String, name: String, into folder: String, context: FetchContext, map: @escaping (String) -> String?) async throws {
        let marker = ".svco-extracted-" + name
        if FileSystem.exists(folder + "/" + marker) { return }
        let downloads = context.output + "/.downloads"
        try await context.download(url, to: downloads + "/" + name, label: name)
        context.log("unpacking \(name)")
        let n = try ArchiveExtractor.extract(downloads + "/" + name, into: folder, marker: marker, map: map, log: context.log)
        context.log("  \(n) files")
        try? FileManager.default.removeItem(atPath: downloads + "/" + name)
        if ((try? FileManager.default.contentsOfDirectory(atPath: downloads)) ?? []).isEmpty {
            try? FileManager.default.removeItem(atPath: downloads)
        }
    }

    /// MMHal-Bench's 96 images, from the `image_src` of each template entry, as `images/<image_id>.jpg`.
    static func mmhalImages(_ folder: String, context: FetchContext) async throws {
        struct Entry: Decodable { var image_id: String; var image_src: String }
        let template = folder + "/mmhal-bench_answer_template.json"
        guard let data = FileManager.default.contents(atPath: template) else { throw FetchError("\(template) is missing") }
        let entries: [Entry]
        do { entries = try JSONDecoder().decode([Entry].self, from: data) } catch {
            throw FetchError("\(template): not MMHal-Bench's answer template (\(error))")
        }
        for entry in entries {
            guard !entry.image_id.contains("/"), !entry.image_id.hasPrefix(".") else { throw FetchError("\(template): bad image_id '\(entry.image_id)'") }
            try await context.download(entry.image_src, to: folder + "/images/" + entry.image_id + ".jpg", label: "mmhal image \(entry.image_id)")
        }
        context.log("  \(entries.count) images")
    }

    /// RealWorldQA's parquet files from the Hub, then each row's image as `<row>.webp` (from 1), as
    /// the reference's `load_dataset(...)['test']` loop saves them.
    static func realWorldQA(_ folder: String, context: FetchContext) async throws {
        let source = folder + "/.source"
        try await context.hubDataset("xai-org/RealworldQA", include: ["*.parquet"], into: source)
        try await context.once("realworldqa-images", in: folder) {
            let files = try parquetFiles(in: source)
            guard !files.isEmpty else { throw FetchError("xai-org/RealworldQA: no parquet files were downloaded into \(source)") }
            let n = try RealWorldQAImages.write(parquetFiles: files, into: folder)
            context.log("  \(n) images")
        }
    }

    /// The parquet files under `folder` in `datasets`' order (sorted paths).
    static func parquetFiles(in folder: String) throws -> [String] {
        guard FileSystem.isDirectory(folder) else { return [] }
        let items = (try? FileManager.default.subpathsOfDirectory(atPath: folder)) ?? []
        return items.filter { !$0.hasPrefix(".cache") && $0.hasSuffix(".parquet") }.sorted().map { folder + "/" + $0 }
    }
}

/// RealWorldQA images out of the Hub's parquet files (a `datasets` Image column: a struct of
/// `bytes` and `path`).
public enum RealWorldQAImages {
    /// Writes `<n>.webp` for row n (from 1, across the files in order); returns the row count.
    public static func write(parquetFiles: [String], into folder: String) throws -> Int {
        var row = 0
        for file in parquetFiles {
            let parquet = try ParquetFile(path: file)
            try parquet.forEachValue(column: "image.bytes") { index, value in
                row += 1
                let name = "\(file) row \(index)"
                guard let bytes = value else { throw FetchError("\(name): the image is null") }
                // Pillow would keep an alpha channel (an RGBA WebP); svco's decoder yields RGB only.
                if hasAlpha(bytes) { throw FetchError("\(name): the image has an alpha channel, which svco cannot save as Pillow does") }
                let image = try ImageDecoder.decode(data: bytes, name: name, options: DecodeOptions(applyEXIFOrientation: false))
                let webp = try ImageReencoding.webp(image, name: name)
                try FileSystem.writeAtomically(webp, to: folder + "/\(row).webp")
            }
        }
        return row
    }

    /// Whether Pillow would open the image with transparency (`has_transparency_data`): PNG colour
    /// types 4 and 6 or a tRNS chunk; WebP with an alpha flag, ALPH chunk or a VP8L alpha hint.
    static func hasAlpha(_ b: [UInt8]) -> Bool {
        if b.count > 25, b[0] == 0x89, b[1] == 0x50 {
            if b[25] == 4 || b[25] == 6 { return true }
            var p = 8
            while p + 8 <= b.count {
                let length = Int(b[p]) << 24 | Int(b[p + 1]) << 16 | Int(b[p + 2]) << 8 | Int(b[p + 3])
                let type = String(decoding: b[p + 4..<p + 8], as: UTF8.self)
                if type == "tRNS" { return true }
                if type == "IDAT" || type == "IEND" { return false }
                p += 12 + length
            }
            return false
        }
        if b.count > 30, Array(b[0..<4]) == Array("RIFF".utf8), Array(b[8..<12]) == Array("WEBP".utf8) {
            let chunk = String(decoding: b[12..<16], as: UTF8.self)
            if chunk == "VP8X" { return b[20] & 0x10 != 0 }
            if chunk == "VP8L", b.count > 25 { return (b[24] >> 4) & 1 == 1 }
        }
        return false
    }
}
