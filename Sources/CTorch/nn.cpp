// Functional neural-network operators.
#include "internal.hpp"

#include <ATen/ops/conv2d.h>
#include <ATen/ops/cross_entropy_loss.h>
#include <ATen/ops/dropout.h>
#include <ATen/ops/embedding.h>
#include <ATen/ops/layer_norm.h>
#include <ATen/ops/rms_norm.h>
#include <ATen/ops/scaled_dot_product_attention.h>
#include <ATen/ops/upsample_bicubic2d.h>

extern "C" {

ct_tensor ct_embedding(ct_tensor weight, ct_tensor ids, int64_t padding_idx) {
    CT_TENSOR(at::embedding(weight->t, ids->t, padding_idx))
}

ct_tensor ct_layer_norm(ct_tensor x, const int64_t *shape, int ndim, ct_tensor weight, ct_tensor bias, double eps) {
    CT_TENSOR(at::layer_norm(x->t, ctorch::ints(shape, ndim), ctorch::optional_tensor(weight),
                             ctorch::optional_tensor(bias), eps))
}

ct_tensor ct_rms_norm(ct_tensor x, const int64_t *shape, int ndim, ct_tensor weight, double eps) {
    CT_TENSOR(at::rms_norm(x->t, ctorch::ints(shape, ndim), ctorch::optional_tensor(weight), eps))
}

ct_tensor ct_conv2d(ct_tensor x, ct_tensor weight, ct_tensor bias, const int64_t *stride,
                    const int64_t *padding, const int64_t *dilation, int64_t groups) {
    CT_TENSOR(at::conv2d(x->t, weight->t, ctorch::optional_tensor(bias), ctorch::ints(stride, 2),
                         ctorch::ints(padding, 2), ctorch::ints(dilation, 2), groups))
}

ct_tensor ct_dropout(ct_tensor x, double p, int train) { CT_TENSOR(at::dropout(x->t, p, train != 0)) }

ct_tensor ct_sdpa(ct_tensor q, ct_tensor k, ct_tensor v, ct_tensor mask, double dropout, int is_causal,
                  double scale, int enable_gqa) {
    std::optional<double> s;
    if (scale > 0) s = scale;
    CT_TENSOR(at::scaled_dot_product_attention(q->t, k->t, v->t, ctorch::optional_tensor(mask), dropout,
                                               is_causal != 0, s, enable_gqa != 0))
}

ct_tensor ct_upsample_bicubic2d(ct_tensor x, int64_t out_h, int64_t out_w, int align_corners) {
    // F.interpolate(size=…) passes no scales, so the kernel derives them from the sizes.
    CT_TENSOR(at::upsample_bicubic2d(x->t, {out_h, out_w}, align_corners != 0, std::nullopt, std::nullopt))
}

ct_tensor ct_cross_entropy(ct_tensor logits, ct_tensor target, int64_t ignore_index, int reduction,
                           double label_smoothing) {
    CT_TENSOR(at::cross_entropy_loss(logits->t, target->t, std::nullopt, reduction, ignore_index, label_smoothing))
}

}  // extern "C"
