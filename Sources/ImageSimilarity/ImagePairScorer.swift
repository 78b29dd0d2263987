#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Images
import ImageTensors
import Models
import Torch

/// The two similarities of image pairs: the cosine of the images' SigLIP image features
/// (`get_image_features`) and of their DINOv2 `pooler_output`, each image preprocessed by its
/// model folder's own `preprocessor_config.json` (SigLIP's processor, DINOv2's BitImageProcessor).
/// What `svco data similarity` computes per record; `DatasetBuilding` does the files around it.
public final class ImagePairScorer {
    public let siglip: SiglipImageEncoder
    public let siglipProcessor: ImageProcessor
    public let dinov2: Dinov2Model
    public let dinov2Processor: ImageProcessor
    public let device: Device
    /// Identifies both folders (their config files and weight sizes), so resumed scores are never
    /// mixed with another model's.
    public let fingerprint: String
    /// Images run through each model so far (a file shared by pairs of one batch counts once).
    public private(set) var imagesEncoded = 0

    /// Loads both folders strictly (a SigLIP folder may be a full `SiglipModel`; its text half is skipped).
    public init(siglipDirectory: String, dinov2Directory: String, dtype: DType? = nil, device: Device = .cpu) throws {
        siglip = try ImageEmbeddingModels.load(SiglipImageEncoder.self, directory: siglipDirectory, dtype: dtype, device: device)
        siglipProcessor = try ImageProcessors.load(directory: siglipDirectory)
        dinov2 = try ImageEmbeddingModels.load(Dinov2Model.self, directory: dinov2Directory, dtype: dtype, device: device)
        dinov2Processor = try ImageProcessors.load(directory: dinov2Directory)
        self.device = device
        fingerprint = "siglip " + Self.fingerprint(siglipDirectory) + "; dinov2 " + Self.fingerprint(dinov2Directory)
            + (dtype.map { "; dtype \($0)" } ?? "")
        if let side = siglip.requiredImageSize {
            // What the processor makes of a 2:3 image of any size: it must be the model's grid.
            let p = siglipProcessor
            let resized = p.doResize ? p.resizedSize(height: 2 * side, width: 3 * side) : (height: 2 * side, width: 3 * side)
            let crop = p.doCenterCrop ? p.cropSize.flatMap { c in c.height.flatMap { h in c.width.map { (height: h, width: $0) } } } : nil
            let processed = crop ?? resized
            if processed.height != side || processed.width != side {
                throw ConfigError(file: siglipDirectory + "/preprocessor_config.json", field: "size",
                                  reason: "does not resize to the model's image_size \(side) × \(side) (SigLIP's position embeddings are a fixed grid)")
            }
        }
    }

    /// `(siglip, dinov2)` cosine similarity for each pair of image files, in order. Decoding
    /// errors name the file.
    public func score(_ pairs: [(String, String)]) throws -> [(siglip: Double, dinov2: Double)] {
        var files: [String] = []
        var slot: [String: Int] = [:]
        for (a, b) in pairs {
            for f in [a, b] where slot[f] == nil {
                slot[f] = files.count
                files.append(f)
            }
        }
        guard !files.isEmpty else { return [] }
        imagesEncoded += files.count
        let s = try embeddings(files, siglipProcessor) { self.siglip.imageEmbeddings($0) }
        let d = try embeddings(files, dinov2Processor) { self.dinov2.imageEmbeddings($0) }
        return pairs.map { a, b in
            let i = slot[a] ?? 0, j = slot[b] ?? 0
            return (Self.cosine(s[i], s[j]), Self.cosine(d[i], d[j]))
        }
    }

    /// One float32 vector per file.
    func embeddings(_ files: [String], _ processor: ImageProcessor, _ model: (Tensor) -> Tensor) throws -> [[Float]] {
        guard let pixels = try Tensor.pixelValues(files: files, processor: processor) else { return [] }
        let out = Autograd.noGrad { model(pixels.to(device: device)).to(.float32, device: .cpu) }  // [N, D]
        let (n, width) = (out.size(0), out.size(1))
        let values = out.contiguous().toArray(Float.self)
        return (0..<n).map { Array(values[($0 * width)..<(($0 + 1) * width)]) }
    }

    /// a·b / (‖a‖ ‖b‖) in float64; NaN when either vector is zero (the caller reports it).
    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            na += Double(x) * Double(x)
            nb += Double(y) * Double(y)
        }
        return dot / (na * nb).squareRoot()
    }

    /// config files' FNV-1a hashes and the weight files' sizes.
    static func fingerprint(_ directory: String) -> String {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        var parts: [String] = []
        for name in names where name.hasSuffix(".json") || name.hasSuffix(".safetensors") {
            let path = directory + "/" + name
            if name.hasSuffix(".json") {
                let bytes = [UInt8]((try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data())
                var hash: UInt64 = 0xcbf2_9ce4_8422_2325
                for b in bytes { hash = (hash ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
                parts.append("\(name):\(String(hash, radix: 16))")
            } else {
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
                parts.append("\(name):\(size) bytes")
            }
        }
        return parts.joined(separator: ",")
    }
}
