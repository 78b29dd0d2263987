import Foundation
import Testing
@testable import Models
@testable import NN
@testable import Torch

/// SigLIP's image features (the attention-pooling head) and DINOv2 against transformers 4.57.1 on
/// the tiny random checkpoints of Fixtures/vision-similarity (made by its make_fixtures.py): a full
/// SiglipModel folder, a DINOv2 folder with a 518-px grid used at 224 px (square and 224 × 168),
/// and a SwiGLU DINOv2 at a 56-px grid used at 70 px.
@Suite struct ImageEmbeddingParityTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/vision-similarity").path

    static func reference() throws -> SafetensorsFile { try SafetensorsFile(path: folder + "/reference.safetensors") }

    /// The script's `pattern`: value[i] = ((i · 7919) mod 255) / 127.5 − 1 in float32, exact on both sides.
    static func pattern(_ shape: [Int]) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor((0..<n).map { Float((($0 * 7919) % 255)) / Float(127.5) - Float(1) }, shape: shape)
    }

    static func shape(_ ref: SafetensorsFile, _ name: String) throws -> [Int] { try ref.tensor(name).toArray(Int64.self).map { Int($0) } }

    /// max |a − b| / max(1, |b|): float32 sums of a few hundred terms differ from torch's by ~1e-6.
    static func relative(_ a: Tensor, _ b: Tensor) -> Double {
        let x = a.to(.float64), y = b.to(.float64)
        return ((x - y).abs() / y.abs().clamp(min: 1.0)).max().item().doubleValue
    }

    @Test func siglipImageFeaturesEqualTransformers() throws {
        let ref = try Self.reference()
        let model = try ImageEmbeddingModels.load(SiglipImageEncoder.self, directory: Self.folder + "/siglip-tiny")
        #expect(model.requiredImageSize == 112 && model.tower.hasPoolingHead)
        let pixels = Self.pattern(try Self.shape(ref, "siglip.pixel_values_shape"))
        let (hidden, pooled) = Autograd.noGrad { (model.tower.lastHiddenState(pixels), model.imageEmbeddings(pixels)) }
        let e1 = Self.relative(hidden, try ref.tensor("siglip.last_hidden_state"))
        let e2 = Self.relative(pooled, try ref.tensor("siglip.pooler_output"))
        print("SigLIP vs transformers: last_hidden_state \(e1), get_image_features \(e2)")
        #expect(pooled.shape == [2, 32])
        #expect(e1 < 1e-5 && e2 < 1e-5)
    }

    @Test(arguments: ["square", "wide"])
    func dinov2EqualsTransformers(_ tag: String) throws {
        let ref = try Self.reference()
        let model = try ImageEmbeddingModels.load(Dinov2Model.self, directory: Self.folder + "/dinov2-tiny")
        #expect(model.config.gridSize == 37 && model.config.useMaskToken && !model.config.useSwigluFfn)
        let pixels = Self.pattern(try Self.shape(ref, "dinov2.\(tag).pixel_values_shape"))
        let (hidden, pooled) = Autograd.noGrad { (model.lastHiddenState(pixels), model.imageEmbeddings(pixels)) }
        let e1 = Self.relative(hidden, try ref.tensor("dinov2.\(tag).last_hidden_state"))
        let e2 = Self.relative(pooled, try ref.tensor("dinov2.\(tag).pooler_output"))
        print("DINOv2 \(tag) \(pixels.shape) vs transformers: last_hidden_state \(e1), pooler_output \(e2)")
        #expect(hidden.shape == (tag == "square" ? [2, 257, 32] : [2, 193, 32]))
        #expect(e1 < 1e-5 && e2 < 1e-5)
    }

    /// The 37 × 37 grid resized to 16 × 16 exactly as transformers' interpolate_pos_encoding.
    @Test func interpolatedPositionEmbeddings() throws {
        let ref = try Self.reference()
        let model = try ImageEmbeddingModels.load(Dinov2Model.self, directory: Self.folder + "/dinov2-tiny")
        let mine = model.embeddings.positions(height: 224, width: 224, patchCount: 256)
        let e = maxDifference(mine, try ref.tensor("dinov2.square.position_embeddings"))
        print("DINOv2 position embeddings 37² → 16²: max |difference| \(e)")
        #expect(mine.shape == [1, 257, 32] && e < 1e-6)
        // At the training grid (518 px, square) the stored table is used as is.
        #expect(model.embeddings.positions(height: 518, width: 518, patchCount: 37 * 37) === model.embeddings.positionEmbeddings.value)
    }

    @Test func dinov2SwigluEqualsTransformers() throws {
        let ref = try Self.reference()
        let model = try ImageEmbeddingModels.load(Dinov2Model.self, directory: Self.folder + "/dinov2-swiglu-tiny")
        #expect(model.config.useSwigluFfn && !model.config.useMaskToken && !model.config.qkvBias && model.config.mlpWidth == 80)
        let pixels = Self.pattern(try Self.shape(ref, "dinov2_swiglu.pixel_values_shape"))
        let (hidden, pooled) = Autograd.noGrad { (model.lastHiddenState(pixels), model.imageEmbeddings(pixels)) }
        let e1 = Self.relative(hidden, try ref.tensor("dinov2_swiglu.last_hidden_state"))
        let e2 = Self.relative(pooled, try ref.tensor("dinov2_swiglu.pooler_output"))
        print("DINOv2 SwiGLU 4² grid at 5²: last_hidden_state \(e1), pooler_output \(e2)")
        #expect(e1 < 1e-5 && e2 < 1e-5)
    }
}

/// Strict loading of the two folders: the SiglipModel's text half is skipped on purpose, anything
/// else missing, extra or mis-shaped is an error naming the key; a folder of the other kind is
/// refused by its model_type.
@Suite struct ImageEmbeddingLoadingTests {
    static let folder = ImageEmbeddingParityTests.folder

    /// A copy of `name` whose weights went through `edit`.
    static func edited(_ name: String, config: ((String) -> String)? = nil, _ edit: (inout [String: Tensor]) -> Void) throws -> String {
        let dir = temporaryFolder(name)
        var tensors = try SafetensorsCheckpoint.load(directory: folder + "/" + name)
        edit(&tensors)
        try SafetensorsWriter.write(tensors, to: dir + "/model.safetensors")
        var text = try String(contentsOfFile: folder + "/" + name + "/config.json", encoding: .utf8)
        if let config { text = config(text) }
        try text.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        return dir
    }

    static func message(_ body: () throws -> Void) -> String {
        do { try body() } catch { return "\(error)" }
        return "no error"
    }

    @Test func siglipTextHalfIsSkippedVisionIsStrict() throws {
        let all = try SafetensorsCheckpoint.load(directory: Self.folder + "/siglip-tiny")
        #expect(all.keys.contains { $0.hasPrefix("text_model.") } && all["logit_scale"] != nil)
        let model = try SiglipImageEncoder.load(directory: Self.folder + "/siglip-tiny", dtype: nil, device: .cpu)
        let names = model.namedParameters().map(\.name)
        #expect(names.allSatisfy { $0.hasPrefix("vision_model.") } && names.contains("vision_model.head.attention.in_proj_weight"))
        #expect(names.count == all.keys.filter { $0.hasPrefix("vision_model.") }.count)

        // A SiglipVisionModel folder (vision half only) loads too.
        let visionOnly = try Self.edited("siglip-tiny", config: { _ in
            #"{"model_type": "siglip_vision_model", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "image_size": 112, "patch_size": 14}"#
        }) { t in t = t.filter { $0.key.hasPrefix("vision_model.") } }
        defer { try? FileManager.default.removeItem(atPath: visionOnly) }
        let v = try ImageEmbeddingModels.load(SiglipImageEncoder.self, directory: visionOnly)
        let pixels = ImageEmbeddingParityTests.pattern([1, 3, 112, 112])
        #expect(maxDifference(v.imageEmbeddings(pixels), model.imageEmbeddings(pixels)) == 0)

        let noProbe = try Self.edited("siglip-tiny") { $0.removeValue(forKey: "vision_model.head.probe") }
        defer { try? FileManager.default.removeItem(atPath: noProbe) }
        #expect(Self.message { _ = try SiglipImageEncoder.load(directory: noProbe, dtype: nil, device: .cpu) }
                .contains("tensor 'vision_model.head.probe' is missing"))
        let extra = try Self.edited("siglip-tiny") { $0["vision_model.extra.weight"] = Tensor.zeros([2]) }
        defer { try? FileManager.default.removeItem(atPath: extra) }
        #expect(Self.message { _ = try SiglipImageEncoder.load(directory: extra, dtype: nil, device: .cpu) }
                .contains("unexpected tensor(s) the model does not use: 'vision_model.extra.weight'"))
        let noHead = try Self.edited("siglip-tiny", config: { $0.replacingOccurrences(of: #""patch_size": 14"#, with: #""patch_size": 14, "vision_use_head": false"#) }) { _ in }
        defer { try? FileManager.default.removeItem(atPath: noHead) }
        #expect(Self.message { _ = try SiglipImageEncoder.load(directory: noHead, dtype: nil, device: .cpu) }
                .contains("field 'vision_use_head': is false"))
    }

    @Test func dinov2IsStrict() throws {
        let shaped = try Self.edited("dinov2-tiny") { $0["embeddings.position_embeddings"] = Tensor.zeros([1, 257, 32]) }
        defer { try? FileManager.default.removeItem(atPath: shaped) }
        #expect(Self.message { _ = try Dinov2Model.load(directory: shaped, dtype: nil, device: .cpu) }
                .contains("tensor 'embeddings.position_embeddings' has shape [1, 257, 32], the config implies [1, 1370, 32]"))
        let noScale = try Self.edited("dinov2-tiny") { $0.removeValue(forKey: "encoder.layer.1.layer_scale2.lambda1") }
        defer { try? FileManager.default.removeItem(atPath: noScale) }
        #expect(Self.message { _ = try Dinov2Model.load(directory: noScale, dtype: nil, device: .cpu) }
                .contains("tensor 'encoder.layer.1.layer_scale2.lambda1' is missing"))
    }

    @Test func foldersOfTheOtherKindAreRefused() {
        let asSiglip = Self.message { _ = try ImageEmbeddingModels.load(SiglipImageEncoder.self, directory: Self.folder + "/dinov2-tiny") }
        #expect(asSiglip.contains("dinov2-tiny/config.json: field 'model_type': 'dinov2' is not supported (supported: siglip, siglip_vision_model)"), "\(asSiglip)")
        let asDinov2 = Self.message { _ = try ImageEmbeddingModels.load(Dinov2Model.self, directory: Self.folder + "/siglip-tiny") }
        #expect(asDinov2.contains("siglip-tiny/config.json: field 'model_type': 'siglip' is not supported (supported: dinov2)"), "\(asDinov2)")
        let none = Self.message { _ = try ImageEmbeddingModels.load(Dinov2Model.self, directory: "/nonexistent") }
        #expect(none.contains("/nonexistent/config.json: no such file"), "\(none)")
    }
}
