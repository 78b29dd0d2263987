import Foundation
import Testing
@testable import Models
@testable import NN
@testable import Torch

/// Model folders load through the family their config.json's model_type names.
@Suite struct RegistryTests {
    @Test(arguments: TransformersParityTests.families)
    func loadsTheFamilyOfModelType(_ name: String) throws {
        let folder = TransformersParityTests.fixtures + "/" + name
        let model = try ModelRegistry.load(directory: folder)
        let direct = try LlavaModel.load(directory: folder)
        #expect(model is LlavaModel)
        #expect(model.parameterCounts.map(\.component) == ["total", "vision_tower", "multi_modal_projector", "language_model"])
        #expect(model.parameterCounts.map(\.count) == direct.parameterCounts.map(\.count))
        // The frozen reference shares the policy's tower through the family-independent loader.
        let shared = try ModelRegistry.load(directory: folder, sharingVisionTowerOf: model)
        #expect(shared.component(.visionTower) === model.component(.visionTower))
        #expect(shared.component(.languageModel) !== model.component(.languageModel))
    }

    @Test func unknownOrMissingModelTypeIsAnErrorNamingTheField() throws {
        let folder = temporaryFolder()
        try #"{"model_type": "blip"}"#.write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
        #expect { try ModelRegistry.load(directory: folder) } throws: {
            "\($0)" == "\(folder)/config.json: field 'model_type': 'blip' is not supported (supported: llava)"
        }
        try #"{"text_config": {}}"#.write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
        #expect { try ModelRegistry.load(directory: folder) } throws: {
            "\($0)" == "\(folder)/config.json: field 'model_type': is required (supported: llava)"
        }
    }

    @Test func aTowerOfAnotherConfigCannotBeShared() throws {
        let clip = try randomModel(interleave: false)
        #expect { try LlavaModel(config: try tinyConfig(interleave: true), loader: WeightLoader(randomSeed: 1),
                                 sharedVisionTower: clip.visionTower) } throws: {
            "\($0)".contains("field 'vision_config': differs from that of the model whose vision tower it was asked to share")
        }
    }
}
