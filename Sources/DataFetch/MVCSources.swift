import Hub
import Images
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `svco data fetch mvc-sources`: the image sources of the released MVC data, in the folders its
/// `mvc.json` paths name, as the reference's `prepare_source_data.sh` leaves them:
///
///     flickr30k/                  Hub dataset nlphuji/flickr30k; flickr30k-images.zip unpacked
///     Flickr30k-Counterfactuals/  Hub dataset HanSolo9682/Flickr30k-Counterfactuals; train_data.tar.gz
///                                 unpacked; CounterCurate's preparation: originals copied into
///                                 train_data/{counting,up_down,left_right}/pos, left_right/neg = the
///                                 originals mirrored left-right (re-saved as Pillow does)
///     finecops-ref/               GQA's images.zip, FineCops-Ref's annotation zip and its
///                                 neg_images.tgz, unpacked
///     mvc.json                    the released MVC records (the reference repository's data/mvc.json)
public enum MVCSources {
    /// The reference repository's commit whose files are fetched (pinned, and checked by git blob id).
    public static let referenceCommit = "bc8f941983703f2cb2c9660452eae294e0fada6f"
    public static let mvcJSONBlobID = "abeb08e97778a45675363bc3099edf35074bf6e8"
    static let gqaImages = "https://downloads.cs.stanford.edu/nlp/data/gqa/images.zip"
    static let fineCopsAnnotations = "https://figshare.com/ndownloader/articles/26048050?private_link=e323fe078924c8b36043"

    /// `mvcJSONBlobID`: the git blob id mvc.json must have (the released file's, unless a test serves another).
    public static func fetch(_ context: FetchContext, mvcJSONBlobID: String = mvcJSONBlobID) async throws {
        let out = context.output
        try FileSystem.makeDirectories(out)

        context.log("== mvc.json (the released MVC records)")
        try await context.download("https://raw.githubusercontent.com/s-vco/s-vco/\(referenceCommit)/data/mvc.json",
                                   to: out + "/mvc.json", gitBlobID: mvcJSONBlobID, label: "mvc.json")

        context.log("== flickr30k (Hub dataset nlphuji/flickr30k)")
        let flickr = out + "/flickr30k"
        try await context.hubDataset("nlphuji/flickr30k", into: flickr)
        try extract(flickr + "/flickr30k-images.zip", into: flickr, context: context)

        context.log("== Flickr30k-Counterfactuals (Hub dataset HanSolo9682/Flickr30k-Counterfactuals)")
        let counterfactuals = out + "/Flickr30k-Counterfactuals"
        try await context.hubDataset("HanSolo9682/Flickr30k-Counterfactuals", into: counterfactuals)
        try extract(counterfactuals + "/train_data.tar.gz", into: counterfactuals, context: context)
        try await context.once("countercurate", in: counterfactuals) {
            try CounterCurate.prepare(flickrImages: flickr + "/flickr30k-images", trainData: counterfactuals + "/train_data", log: context.log)
        }

        context.log("== finecops-ref (GQA images, FineCops-Ref annotations and negative images)")
        let finecops = out + "/finecops-ref"
        try await context.download(gqaImages, to: finecops + "/images.zip", label: "GQA images.zip")
        try extract(finecops + "/images.zip", into: finecops, context: context)
        try await context.download(fineCopsAnnotations, to: finecops + "/finecopsref_anno.zip", label: "FineCops-Ref annotations")
        try extract(finecops + "/finecopsref_anno.zip", into: finecops, context: context)
        try extract(finecops + "/neg_images.tgz", into: finecops, context: context)
        context.log("done: \(out)")
    }

    static func extract(_ archive: String, into folder: String, context: FetchContext) throws {
        guard FileSystem.exists(archive) else { throw FetchError("\(archive) is missing after its download") }
        context.log("unpacking \(archive)")
        let n = try ArchiveExtractor.extract(archive, into: folder, log: context.log)
        if n > 0 { context.log("  \(n) files") }
    }
}

/// CounterCurate's preparation of Flickr30k-Counterfactuals (the reference's
/// `prepare_countercurate_data.py`): for every image id listed in `counting.json`, `up_down.json` and
/// `left_right.json`, the Flickr30k original is copied into `<task>/pos/<id>.jpg`; for left-right
/// the `neg` image is the original mirrored left-right.
public enum CounterCurate {
    public static func prepare(flickrImages: String, trainData: String, log: (String) -> Void) throws {
        for task in ["counting", "up_down", "left_right"] {
            let listFile = trainData + "/" + task + ".json"
            guard let data = FileManager.default.contents(atPath: listFile) else { throw FetchError("\(listFile) is missing") }
            let ids: [String]
            do { ids = try JSONDecoder().decode([String: JSONAny].self, from: data).keys.sorted() } catch {
                throw FetchError("\(listFile): not a JSON object keyed by image id (\(error))")
            }
            try FileSystem.makeDirectories(trainData + "/" + task + "/pos")
            if task == "left_right" { try FileSystem.makeDirectories(trainData + "/left_right/neg") }
            for id in ids {
                guard ArchiveExtractor.safeRelativePath(id) == id, !id.contains("/") else { throw FetchError("\(listFile): bad image id '\(id)'") }
                let source = flickrImages + "/" + id + ".jpg"
                guard let bytes = FileManager.default.contents(atPath: source) else {
                    throw FetchError("\(source) (listed in \(listFile)) is missing from the Flickr30k images")
                }
                try FileSystem.writeAtomically(Array(bytes), to: trainData + "/" + task + "/pos/" + id + ".jpg")
                if task == "left_right" {
                    let flipped = try ImageReencoding.jpegFlippedLeftRight(Array(bytes), name: source)
                    try FileSystem.writeAtomically(flipped, to: trainData + "/left_right/neg/" + id + ".jpg")
                }
            }
            log("  \(task): \(ids.count) originals copied" + (task == "left_right" ? " and mirrored" : ""))
        }
    }
}

/// Any JSON value, skipped over (only the keys of the id lists matter).
struct JSONAny: Decodable {
    init(from decoder: Decoder) throws {
        if var array = try? decoder.unkeyedContainer() {
            while !array.isAtEnd { _ = try array.decode(JSONAny.self) }
        } else if let object = try? decoder.container(keyedBy: AnyKey.self) {
            for key in object.allKeys { _ = try object.decode(JSONAny.self, forKey: key) }
        } else {
            _ = try decoder.singleValueContainer()
        }
    }
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
