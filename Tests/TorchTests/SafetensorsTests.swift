import Foundation
import AtomicFiles
import Testing
@testable import Torch

@Suite struct SafetensorsTests {
    @Test func roundTripEveryDType() throws {
        let dir = temporaryDirectory()
        let g = Generator(seed: 9)
        var tensors: [String: Tensor] = [:]
        for dtype in DType.allCases {
            let values = Tensor.randn([3, 5], dtype: .float64, generator: g) * 50.0
            tensors["t.\(dtype)"] = dtype == .bool ? values.gt(0) : values.to(dtype)
        }
        tensors["scalar"] = Tensor(scalar: 2.5)
        tensors["empty"] = Tensor.zeros([0, 4])
        tensors["transposed"] = iota([3, 4]).T  // non-contiguous: written in logical order
        let path = dir + "/all.safetensors"
        try SafetensorsWriter.write(tensors, metadata: ["format": "pt", "note": "quote \" and \\ ok"], to: path)

        let file = try SafetensorsFile(path: path)
        #expect(file.metadata == ["format": "pt", "note": "quote \" and \\ ok"])
        #expect(Set(file.names) == Set(tensors.keys))
        for (name, original) in tensors {
            let loaded = try file.tensor(name)
            #expect(loaded.dtype == original.dtype, "\(name)")
            #expect(loaded.shape == original.shape, "\(name)")
            #expect(loaded.bytes() == original.contiguous().bytes(), "\(name)")
        }
        expectValues(try file.tensor("transposed").reshape(12), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp-\(getpid())"))
    }

    @Test func mappedTensorsAreCopyOnWrite() throws {
        let path = temporaryDirectory() + "/w.safetensors"
        try SafetensorsWriter.write(["w": Tensor([1.0, 2.0] as [Float])], to: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        var loaded: Tensor? = try SafetensorsFile(path: path).tensor("w")  // the file object is gone already
        loaded?.fill_(7)
        expectValues(loaded ?? Tensor([0.0]), [7, 7])
        loaded = nil
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        expectValues(try SafetensorsFile(path: path).tensor("w"), [1, 2])
    }

    /// A file written by the Python `safetensors` library (script beside the fixture).
    @Test func readsFilesWrittenByPython() throws {
        let file = try SafetensorsFile(path: fixturesDirectory + "/python_written.safetensors")
        let expected = try JSONDecoder().decode([String: [Double]].self,
                                                from: Data(contentsOf: URL(fileURLWithPath: fixturesDirectory + "/python_written.json")))
        #expect(file.metadata["format"] == "pt")
        #expect(Set(file.names) == Set(expected.keys))
        for (name, values) in expected {
            expectValues(try file.tensor(name).to(.float64).flatten(), values, tolerance: 0)
        }
        #expect(try file.tensor("bf16").dtype == .bfloat16)
        #expect(try file.tensor("f16").shape == [2, 2])
    }

    @Test func shardedCheckpointRoundTrip() throws {
        let dir = temporaryDirectory()
        var tensors: [String: Tensor] = [:]
        for i in 0..<5 { tensors["layer.\(i).weight"] = Tensor.full([10], Scalar(Double(i)), dtype: .float32) }
        try SafetensorsCheckpoint.save(tensors, directory: dir, maxShardBytes: 100)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(files.contains("model.safetensors.index.json"))
        #expect(files.contains("model-00001-of-00003.safetensors") && files.contains("model-00003-of-00003.safetensors"))
        let loaded = try SafetensorsCheckpoint.load(directory: dir)
        #expect(Set(loaded.keys) == Set(tensors.keys))
        expectValues(loaded["layer.3.weight"]?.sum() ?? Tensor([0.0]), [30])

        let single = temporaryDirectory()
        try SafetensorsCheckpoint.save(tensors, directory: single)
        #expect(try FileManager.default.contentsOfDirectory(atPath: single) == ["model.safetensors"])
        #expect(try SafetensorsCheckpoint.load(directory: single).count == 5)
    }

    @Test func shardedCheckpointErrorsNameTheFile() throws {
        let dir = temporaryDirectory()
        try SafetensorsCheckpoint.save(["a": Tensor([1.0] as [Float]), "b": Tensor([2.0] as [Float])], directory: dir, maxShardBytes: 4)
        let index = dir + "/model.safetensors.index.json"
        func expectFailure(_ json: String, _ phrase: String, sourceLocation: SourceLocation = #_sourceLocation) {
            try? json.write(toFile: index, atomically: true, encoding: .utf8)
            #expect(sourceLocation: sourceLocation) { try SafetensorsCheckpoint.load(directory: dir) } throws: { error in
                "\(error)".contains(phrase)
            }
        }
        expectFailure("{\"weight_map\": {\"a\": \"model-00001-of-00002.safetensors\", \"b\": \"missing.safetensors\"}}", "shard 'missing.safetensors'")
        expectFailure("{\"weight_map\": {\"a\": \"model-00002-of-00002.safetensors\"}}", "tensor 'b' is in the shard but weight_map assigns it elsewhere")
        expectFailure("{\"weight_map\": {\"a\": \"model-00001-of-00002.safetensors\", \"b\": \"model-00001-of-00002.safetensors\", \"c\": \"model-00002-of-00002.safetensors\"}}",
                      "tensor 'b' listed in weight_map is missing from the shard")
        expectFailure("{\"weight_map\": [1]}", "weight_map")
        expectFailure("{\"weight_map\": {\"a\": \"../x.safetensors\"}}", "outside the folder")
        #expect { try SafetensorsCheckpoint.load(directory: temporaryDirectory()) } throws: { "\($0)".contains("neither model.safetensors") }
    }

    @Test func atomicWriteLeavesTheOldFileOnFailure() throws {
        let path = temporaryDirectory() + "/keep.safetensors"
        try SafetensorsWriter.write(["x": Tensor([1.0] as [Float])], to: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try AtomicFile.write(to: path) { file in
                try file.write([1, 2, 3])
                throw Boom()
            }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp-\(getpid())"))
        #expect { try SafetensorsWriter.write(["x": Tensor([1.0])], to: "/nonexistent-dir/x.safetensors") } throws: {
            "\($0)".contains("/nonexistent-dir/x.safetensors")
        }
    }
}
