import Foundation
import Testing
@testable import Models
@testable import NN
@testable import Torch

/// The frozen reference model may use the policy's (frozen) vision tower instead of a copy: it must
/// compute exactly what an unshared copy computes, and skip the tower's weights when loading.
@Suite struct SharedVisionTowerTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    @Test(arguments: ["llava15-tiny", "interleave-tiny"])
    func sharedTowerGivesTheSameLogProbsAsACopy(folder: String) throws {
        let dir = Self.fixtures + "/" + folder
        let policy = try LlavaModel.load(directory: dir)
        let copy = try LlavaModel.load(directory: dir)
        let shared = try LlavaModel.load(directory: dir, sharedVisionTower: policy.visionTower)
        #expect(shared.visionTower === policy.visionTower)
        #expect(copy.visionTower !== policy.visionTower)
        // Same parameter names and values as an unshared load.
        let a = copy.stateDict(), b = shared.stateDict()
        #expect(Set(a.keys) == Set(b.keys))
        for (key, value) in a { #expect(maxDifference(value, try #require(b[key])) == 0, "\(key)") }

        let (ids, mask, _) = tinyBatch(copy)
        let size = copy.config.visionConfig.imageSize
        let pixels = Tensor.randn([1, 3, size, size], generator: Generator(seed: 4))
        let labels = ids.clone()
        let expected = try copy.sequenceLogProbs(inputIds: ids, attentionMask: mask, pixelValues: pixels, labels: labels)
        let found = try shared.sequenceLogProbs(inputIds: ids, attentionMask: mask, pixelValues: pixels, labels: labels)
        #expect(maxDifference(expected, found) == 0)
    }

    @Test func randomWeightsStayAlignedWithAnUnsharedBuild() throws {
        let config = try tinyConfig(interleave: false)
        let policy = try LlavaModel(config: config, loader: WeightLoader(randomSeed: 3))
        let unshared = try LlavaModel(config: config, loader: WeightLoader(randomSeed: 3))
        let shared = try LlavaModel(config: config, loader: WeightLoader(randomSeed: 3), sharedVisionTower: policy.visionTower)
        let a = unshared.stateDict(), b = shared.stateDict()
        for (key, value) in a { #expect(maxDifference(value, try #require(b[key])) == 0, "\(key)") }
    }
}
