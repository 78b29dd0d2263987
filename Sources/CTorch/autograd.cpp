// Autograd and the optimiser kernels (fused AdamW, global-norm clipping).
#include "internal.hpp"

#include <ATen/ops/_foreach_add.h>
#include <ATen/ops/_foreach_mul.h>
#include <ATen/ops/_foreach_norm.h>
#include <ATen/ops/_fused_adamw.h>
#include <ATen/ops/linalg_vector_norm.h>
#include <ATen/ops/stack.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <map>
#include <utility>

namespace {

using GroupKey = std::pair<std::string, int>;

/// Indices of tensors grouped by (device, dtype): ATen's multi-tensor kernels want one of each.
std::map<GroupKey, std::vector<size_t>> group_by_device_and_dtype(const std::vector<at::Tensor> &ts) {
    std::map<GroupKey, std::vector<size_t>> groups;
    for (size_t i = 0; i < ts.size(); ++i) {
        groups[{ts[i].device().str(), static_cast<int>(ts[i].scalar_type())}].push_back(i);
    }
    return groups;
}

std::vector<at::Tensor> pick(const std::vector<at::Tensor> &ts, const std::vector<size_t> &idx) {
    std::vector<at::Tensor> out;
    out.reserve(idx.size());
    for (size_t i : idx) out.push_back(ts[i]);
    return out;
}

/// A Swift callback run by AccumulateGrad once it has written a leaf's `.grad`.
struct SwiftPostAccumulateHook : torch::autograd::PostAccumulateGradHook {
    void (*fn)(void *);
    void *ctx;
    void (*release)(void *);
    SwiftPostAccumulateHook(void (*f)(void *), void *c, void (*r)(void *)) : fn(f), ctx(c), release(r) {}
    ~SwiftPostAccumulateHook() override {
        if (release != nullptr) release(ctx);
    }
    SwiftPostAccumulateHook(const SwiftPostAccumulateHook &) = delete;
    SwiftPostAccumulateHook &operator=(const SwiftPostAccumulateHook &) = delete;
    void operator()(const torch::autograd::Variable &) override { fn(ctx); }
};

}  // namespace

extern "C" {

int ct_requires_grad(ct_tensor t) { return t->t.requires_grad() ? 1 : 0; }
int ct_set_requires_grad(ct_tensor t, int flag) { CT_STATUS(t->t.set_requires_grad(flag != 0)) }

int ct_backward(ct_tensor t, ct_tensor grad_output, int retain_graph, int create_graph) {
    CT_STATUS(t->t.backward(grad_output ? grad_output->t : at::Tensor(), retain_graph != 0, create_graph != 0))
}

ct_tensor ct_grad(ct_tensor t) {
    try {
        const at::Tensor &g = t->t.grad();
        return g.defined() ? ctorch::wrap(g) : nullptr;
    } CT_CATCH_ALL
    return nullptr;
}

int ct_set_grad(ct_tensor t, ct_tensor grad) {
    CT_STATUS(t->t.mutable_grad() = grad ? grad->t : at::Tensor())
}

int ct_zero_grad(ct_tensor t) { CT_STATUS(t->t.mutable_grad().reset()) }

int ct_set_post_accumulate_grad_hook(ct_tensor t, void (*fn)(void *), void *ctx, void (*release)(void *)) {
    try {
        TORCH_CHECK(t->t.is_leaf() && t->t.requires_grad(), "a post-accumulate-grad hook needs a leaf that requires grad");
        std::unique_ptr<torch::autograd::PostAccumulateGradHook> hook;
        if (fn != nullptr) hook = std::make_unique<SwiftPostAccumulateHook>(fn, ctx, release);
        torch::autograd::impl::set_post_acc_grad_hooks(t->t, std::move(hook));
        return 0;
    } CT_CATCH_ALL
    if (release != nullptr) release(ctx);
    return 1;
}
ct_tensor ct_detach(ct_tensor t) { CT_TENSOR(t->t.detach()) }
int ct_is_grad_enabled(void) { return c10::GradMode::is_enabled() ? 1 : 0; }

int ct_set_grad_enabled(int enabled) {
    bool previous = c10::GradMode::is_enabled();
    c10::GradMode::set_enabled(enabled != 0);
    return previous ? 1 : 0;
}

int ct_autograd_grad(const ct_tensor *outputs, const ct_tensor *grad_outputs, int n_out, const ct_tensor *inputs,
                     int n_in, int retain_graph, int create_graph, ct_tensor *out) {
    try {
        std::vector<at::Tensor> gos;
        if (grad_outputs != nullptr) {
            for (int i = 0; i < n_out; ++i) gos.push_back(grad_outputs[i] ? grad_outputs[i]->t : at::Tensor());
        }
        auto grads = torch::autograd::grad(ctorch::tensors(outputs, n_out), ctorch::tensors(inputs, n_in), gos,
                                           retain_graph != 0, create_graph != 0, /*allow_unused=*/true);
        for (int i = 0; i < n_in; ++i) {
            out[i] = grads[static_cast<size_t>(i)].defined() ? ctorch::wrap(grads[static_cast<size_t>(i)]) : nullptr;
        }
        return 0;
    } CT_CATCH_ALL
    return 1;
}

int ct_fused_adamw_(const ct_tensor *params, const ct_tensor *grads, const ct_tensor *exp_avgs,
                    const ct_tensor *exp_avg_sqs, const ct_tensor *steps, int n, double lr, double beta1,
                    double beta2, double weight_decay, double eps) {
    try {
        // Optimiser updates are not part of any graph (torch.optim runs them under no_grad).
        c10::AutoGradMode no_grad(false);
        auto p = ctorch::tensors(params, n);
        auto g = ctorch::tensors(grads, n);
        auto m = ctorch::tensors(exp_avgs, n);
        auto v = ctorch::tensors(exp_avg_sqs, n);
        auto s = ctorch::tensors(steps, n);
        for (auto &[key, idx] : group_by_device_and_dtype(p)) {
            auto gs = pick(s, idx);
            at::_foreach_add_(gs, 1);
            at::_fused_adamw_(pick(p, idx), pick(g, idx), pick(m, idx), pick(v, idx), {}, gs, lr, beta1, beta2,
                              weight_decay, eps, /*amsgrad=*/false, /*maximize=*/false);
        }
        return 0;
    } CT_CATCH_ALL
    return 1;
}

int ct_clip_grad_norm_(const ct_tensor *grads, int n, double max_norm, double *norm) {
    try {
        c10::AutoGradMode no_grad(false);
        auto g = ctorch::tensors(grads, n);
        if (g.empty()) {
            *norm = 0.0;
            return 0;
        }
        // As torch.nn.utils.clip_grad_norm_: per-group foreach norms, the 2-norm of those, and one
        // multiplication by min(1, max_norm / (total + 1e-6)) for every gradient.
        std::vector<at::Tensor> norms;
        auto groups = group_by_device_and_dtype(g);
        for (auto &[key, idx] : groups) {
            for (auto &t : at::_foreach_norm(pick(g, idx), 2)) norms.push_back(t.to(g[0].device()));
        }
        at::Tensor total = at::linalg_vector_norm(at::stack(norms), 2);
        // Python evaluates `max_norm / (total + 1e-6)` as reciprocal() * max_norm; mirror it bit for bit.
        at::Tensor coef = total.add(1e-6).reciprocal().mul(max_norm).clamp_max(1.0);
        for (auto &[key, idx] : groups) {
            auto part = pick(g, idx);
            at::_foreach_mul_(part, coef.to(part[0].device()));
        }
        *norm = total.item<double>();
        return 0;
    } CT_CATCH_ALL
    return 1;
}

}  // extern "C"
