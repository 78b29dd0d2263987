import NN
import Torch

/// SigLIP's attention-pooling head (`vision_model.head`, transformers'
/// `SiglipMultiheadAttentionPoolingHead`): one learned probe attends over the post-layer-normed
/// patch states through a `torch.nn.MultiheadAttention`, then a residual MLP; the probe's output
/// is SigLIP's `pooler_output`, which `SiglipModel.get_image_features` returns.
final class AttentionPoolingHead: Module {
    let probe: Parameter
    /// `nn.MultiheadAttention`'s packed query/key/value projection: rows `[q; k; v]`.
    let inProjWeight: Parameter
    let inProjBias: Parameter
    let outProj: Linear
    let layerNorm: LayerNorm
    let fc1, fc2: Linear
    let heads: Int
    let activation: Activation

    init(config: VisionConfig, _ scope: ModuleScope) throws {
        let h = config.hiddenSize
        probe = try scope.parameter("probe", shape: [1, 1, h])
        inProjWeight = try scope.parameter("attention.in_proj_weight", shape: [3 * h, h])
        inProjBias = try scope.parameter("attention.in_proj_bias", shape: [3 * h])
        outProj = try Linear(scope.child("attention.out_proj"), inFeatures: h, outFeatures: h, bias: true)
        layerNorm = try LayerNorm(scope.child("layernorm"), dimension: h, eps: config.layerNormEps)
        fc1 = try Linear(scope.child("mlp.fc1"), inFeatures: h, outFeatures: config.intermediateSize, bias: true)
        fc2 = try Linear(scope.child("mlp.fc2"), inFeatures: config.intermediateSize, outFeatures: h, bias: true)
        heads = config.numAttentionHeads
        activation = config.hiddenAct
        super.init(scope)
    }

    /// `[N, T, hidden]` post-layer-normed states → `[N, hidden]`.
    func callAsFunction(_ states: Tensor) -> Tensor {
        let (n, t, h) = (states.size(0), states.size(1), states.size(2))
        let d = h / heads
        let w = inProjWeight.value, b = inProjBias.value
        func project(_ x: Tensor, _ part: Int) -> Tensor {
            Functional.linear(x, weight: w.narrow(0, start: part * h, length: h), bias: b.narrow(0, start: part * h, length: h))
        }
        func split(_ y: Tensor, _ length: Int) -> Tensor { y.view(n, length, heads, d).transpose(1, 2) }  // [N, heads, L, d]
        let query = probe.value.expand(n, 1, h)
        // MultiheadAttention scales the query by 1/√d, which is the attention's default scale.
        let attended = Functional.scaledDotProductAttention(split(project(query, 0), 1), split(project(states, 1), t),
                                                            split(project(states, 2), t))
        let pooled = outProj(attended.transpose(1, 2).reshape(n, 1, h))  // [N, 1, hidden]
        let out = pooled + fc2(activation(fc1(layerNorm(pooled))))
        return out.select(1, 0)
    }
}
