import Foundation
import Testing
@testable import NN
@testable import Torch
@testable import Training

@Suite struct ScheduleTests {
    /// HF's lambdas, evaluated by hand: 10 steps, warmup_ratio 0.05 → ceil(0.5) = 1 warmup step.
    @Test func cosineWithWarmupRatio() {
        let s = LearningRateSchedule(kind: .cosine, baseRate: 1e-6, totalSteps: 10, warmupRatio: 0.05)
        #expect(s.warmupSteps == 1)
        #expect(s.rate(step: 0) == 0)  // the first update runs at lr 0, as in HF
        #expect(s.factor(step: 1) == 1)
        #expect(abs(s.factor(step: 5) - 0.5 * (1 + cos(Double.pi * 4 / 9))) < 1e-15)
        #expect(abs(s.factor(step: 10)) < 1e-15)
    }

    @Test func linearConstantAndWarmupSteps() {
        let l = LearningRateSchedule(kind: .linear, baseRate: 2, totalSteps: 10, warmupSteps: 4, warmupRatio: 0.5)
        #expect(l.warmupSteps == 4)  // explicit steps win over the ratio
        #expect(l.rate(step: 2) == 1)
        #expect(l.rate(step: 4) == 2)
        #expect(l.rate(step: 7) == 1)  // 2 · (10 − 7) / (10 − 4)
        #expect(LearningRateSchedule(kind: .constant, baseRate: 3, totalSteps: 5, warmupSteps: 2).rate(step: 0) == 3)
        #expect(LearningRateSchedule(kind: .constantWithWarmup, baseRate: 3, totalSteps: 5, warmupSteps: 2).rate(step: 1) == 1.5)
    }
}

@Suite struct AdamWTests {
    final class Toy: Module {
        let weight = Parameter(Tensor([1.0, 2.0]).requiresGrad(true))
        let bias = Parameter(Tensor([0.5]).requiresGrad(true))
        let norm = Parameter(Tensor([1.0]).requiresGrad(true))
        let frozen = Parameter(Tensor([3.0]), trainable: false)
        init() {
            let scope = ModuleScope()
            for (key, p) in [("layer.weight", weight), ("layer.bias", bias), ("input_layernorm.weight", norm), ("tower.weight", frozen)] {
                scope.register(p, as: key)
            }
            super.init(scope)
        }
    }

    @Test func decayGroupsFollowHFTrainer() {
        #expect(AdamW.decays("language_model.model.layers.0.mlp.up_proj.weight"))
        #expect(!AdamW.decays("language_model.model.layers.0.self_attn.q_proj.bias"))
        #expect(!AdamW.decays("language_model.model.layers.0.post_attention_layernorm.weight"))
        #expect(!AdamW.decays("language_model.model.norm.weight"))
        #expect(!AdamW.decays("vision_tower.vision_model.pre_layrnorm.weight"))
        let toy = Toy()
        let opt = AdamW(parameters: toy.namedParameters(), settings: .init(weightDecay: 0.1))
        #expect(opt.parameterNames == ["layer.weight", "layer.bias", "input_layernorm.weight"])  // frozen: no state
        // With zero gradients Adam's step is 0, so only decoupled decay moves weights: p(1 − lr·wd).
        for p in [toy.weight, toy.bias, toy.norm] { p.value.grad = Tensor.zeros(p.value.shape, dtype: .float64) }
        opt.step(lr: 0.5)
        #expect(toy.weight.value.toArray(Double.self) == [0.95, 1.9])
        #expect(toy.bias.value.toArray(Double.self) == [0.5])
        #expect(toy.norm.value.toArray(Double.self) == [1.0])
        #expect(toy.frozen.value.toArray(Double.self) == [3.0])
    }

    @Test func stateRoundTripsAndGradientsClip() throws {
        let toy = Toy()
        let opt = AdamW(parameters: toy.namedParameters(), settings: .init())
        toy.weight.value.grad = Tensor([3.0, 4.0])
        toy.bias.value.grad = Tensor([0.0])
        toy.norm.value.grad = Tensor([0.0])
        #expect(abs(opt.clipGradients(maxNorm: 1) - 5) < 1e-12)
        expectClose(toy.weight.value.grad, [3 / (5 + 1e-6), 4 / (5 + 1e-6)])
        opt.step(lr: 0.1)
        let state = opt.stateDict()
        #expect(state["layer.weight.step"]?.item().doubleValue == 1)
        let other = AdamW(parameters: Toy().namedParameters(), settings: .init())
        try other.load(state: state, source: "ckpt")
        #expect(other.stateDict()["layer.weight.exp_avg"]?.toArray(Double.self) == state["layer.weight.exp_avg"]?.toArray(Double.self))
        var broken = state
        broken.removeValue(forKey: "layer.bias.exp_avg_sq")
        #expect { try other.load(state: broken, source: "ckpt") } throws: { "\($0)" == "ckpt: tensor 'layer.bias.exp_avg_sq' is missing" }
    }
}
