// Activation checkpointing (torch.utils.checkpoint with use_reentrant=True) for Swift callers.
//
// libtorch's C++ API has no checkpoint utility, so this is a custom autograd Function whose forward
// runs a Swift callback under no-grad and keeps only the callback's inputs; its backward re-runs the
// callback on detached copies of those inputs with grad on (and with the autocast state the forward
// saw), then back-propagates through the recomputed graph. That inner backward accumulates into the
// `.grad` of every parameter the callback used, exactly as PyTorch's reentrant checkpoint does, and
// returns the gradients of the inputs to the outer graph.
//
// RNG: PyTorch's checkpoint also restores the RNG state before recomputing so that dropout draws the
// same mask twice. The models svco checkpoints have no dropout (attention dropout is 0 and off in
// training), so the RNG is not touched here; a caller that draws random numbers inside the callback
// would see different draws in the recomputation.
#include "internal.hpp"

#include <ATen/autocast_mode.h>
#include <ATen/core/ivalue.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// The Swift closure behind a checkpointed segment. Owned by the autograd node (through a capsule
/// in its saved data), so the Swift side is released when the graph is.
struct SwiftSegment : torch::CustomClassHolder {
    ct_checkpoint_fn fn;
    void *ctx;
    void (*release)(void *);
    void (*after_backward)(void *);
    SwiftSegment(ct_checkpoint_fn f, void *c, void (*r)(void *), void (*a)(void *)) : fn(f), ctx(c), release(r), after_backward(a) {}
    ~SwiftSegment() override {
        if (release != nullptr) release(ctx);
    }
    SwiftSegment(const SwiftSegment &) = delete;
    SwiftSegment &operator=(const SwiftSegment &) = delete;

    std::vector<at::Tensor> call(const std::vector<at::Tensor> &inputs) const {
        std::vector<ct_tensor> in;
        in.reserve(inputs.size());
        for (const auto &t : inputs) in.push_back(ctorch::wrap(t));
        std::vector<ct_tensor> out(CT_CHECKPOINT_MAX_OUTPUTS, nullptr);
        int n = fn(ctx, in.data(), static_cast<int>(in.size()), out.data(), CT_CHECKPOINT_MAX_OUTPUTS);
        for (ct_tensor t : in) ct_free(t);
        std::vector<at::Tensor> result;
        for (int i = 0; i < n && i < CT_CHECKPOINT_MAX_OUTPUTS; ++i) {
            result.push_back(out[static_cast<size_t>(i)] ? out[static_cast<size_t>(i)]->t : at::Tensor());
            ct_free(out[static_cast<size_t>(i)]);
        }
        if (n < 0 || n > CT_CHECKPOINT_MAX_OUTPUTS) throw std::runtime_error("checkpoint: the segment returned no valid outputs");
        return result;
    }
};

/// Autocast settings of the devices svco runs on, captured at forward time and re-applied while
/// recomputing (backward runs outside the caller's autocast region).
struct AutocastState {
    bool cpu = false, cuda = false;
    at::ScalarType cpu_dtype = at::kBFloat16, cuda_dtype = at::kHalf;

    static AutocastState current() {
        AutocastState s;
        s.cpu = at::autocast::is_autocast_enabled(at::kCPU);
        s.cuda = at::autocast::is_autocast_enabled(at::kCUDA);
        s.cpu_dtype = at::autocast::get_autocast_dtype(at::kCPU);
        s.cuda_dtype = at::autocast::get_autocast_dtype(at::kCUDA);
        return s;
    }
    void apply() const {
        at::autocast::set_autocast_enabled(at::kCPU, cpu);
        at::autocast::set_autocast_enabled(at::kCUDA, cuda);
        at::autocast::set_autocast_dtype(at::kCPU, cpu_dtype);
        at::autocast::set_autocast_dtype(at::kCUDA, cuda_dtype);
    }
};

/// Applies a state while backward recomputes a segment. `torch.autocast`'s scope would also count
/// nesting and, leaving the outermost region, clear the weight-cast cache, which torch keeps for the
/// whole process: a recomputation on one thread would then drop casts that an autocast region on
/// another thread is still sharing between its uses of a weight, changing how that region's gradients
/// are summed. Instead the cache is switched off for this thread (a thread-local setting) while the
/// segment recomputes. The numbers are those of torch's scope: in a segment each weight is used once,
/// and what torch's scope cached there would be cleared when it ends.
struct RecomputeAutocastScope {
    AutocastState previous = AutocastState::current();
    bool previous_cache = at::autocast::is_autocast_cache_enabled();
    explicit RecomputeAutocastScope(const AutocastState &s) {
        at::autocast::set_autocast_cache_enabled(false);
        s.apply();
    }
    ~RecomputeAutocastScope() {
        previous.apply();
        at::autocast::set_autocast_cache_enabled(previous_cache);
    }
};

struct CheckpointFunction : public torch::autograd::Function<CheckpointFunction> {
    static variable_list forward(AutogradContext *ctx, at::TensorList inputs, c10::intrusive_ptr<SwiftSegment> segment) {
        ctx->save_for_backward(inputs.vec());
        ctx->saved_data["segment"] = c10::IValue::make_capsule(segment);
        AutocastState s = AutocastState::current();
        ctx->saved_data["autocast_cpu"] = s.cpu;
        ctx->saved_data["autocast_cuda"] = s.cuda;
        ctx->saved_data["autocast_cpu_dtype"] = static_cast<int64_t>(s.cpu_dtype);
        ctx->saved_data["autocast_cuda_dtype"] = static_cast<int64_t>(s.cuda_dtype);
        // Function::apply already runs this under no-grad: no activations are kept.
        return segment->call(inputs.vec());
    }

    static variable_list backward(AutogradContext *ctx, variable_list grad_outputs) {
        auto saved = ctx->get_saved_variables();
        auto capsule = ctx->saved_data["segment"].toCapsule();
        auto *segment = static_cast<SwiftSegment *>(capsule.get());
        AutocastState s;
        s.cpu = ctx->saved_data["autocast_cpu"].toBool();
        s.cuda = ctx->saved_data["autocast_cuda"].toBool();
        s.cpu_dtype = static_cast<at::ScalarType>(ctx->saved_data["autocast_cpu_dtype"].toInt());
        s.cuda_dtype = static_cast<at::ScalarType>(ctx->saved_data["autocast_cuda_dtype"].toInt());

        // Detached inputs that require grad exactly where the originals did (torch's detach_variable).
        std::vector<at::Tensor> detached;
        detached.reserve(saved.size());
        for (const auto &t : saved) {
            at::Tensor d = t.detach();
            if (t.requires_grad()) d.requires_grad_(true);
            detached.push_back(d);
        }
        std::vector<at::Tensor> outputs;
        {
            c10::AutoGradMode grad(true);
            RecomputeAutocastScope autocast(s);
            outputs = segment->call(detached);
        }
        std::vector<at::Tensor> roots, grads;
        for (size_t i = 0; i < outputs.size() && i < grad_outputs.size(); ++i) {
            if (outputs[i].defined() && outputs[i].requires_grad() && grad_outputs[i].defined()) {
                roots.push_back(outputs[i]);
                grads.push_back(grad_outputs[i]);
            }
        }
        if (!roots.empty()) torch::autograd::backward(roots, grads);
        if (segment->after_backward != nullptr) segment->after_backward(segment->ctx);
        variable_list result;
        result.reserve(detached.size() + 1);
        for (const auto &d : detached) result.push_back(d.requires_grad() ? d.grad() : at::Tensor());
        result.emplace_back();  // the segment argument is not a tensor
        return result;
    }
};

}  // namespace

extern "C" {

int ct_checkpoint(ct_checkpoint_fn fn, void *ctx, void (*release)(void *ctx), void (*after_backward)(void *ctx),
                  const ct_tensor *inputs, int n_in, ct_tensor *out, int cap) {
    // Owns ctx from here on, also on failure.
    c10::intrusive_ptr<SwiftSegment> segment;
    try {
        segment = c10::make_intrusive<SwiftSegment>(fn, ctx, release, after_backward);
    } catch (...) {
        if (release != nullptr) release(ctx);
        ctorch::set_error("checkpoint: out of memory");
        return -1;
    }
    try {
        auto in = ctorch::tensors(inputs, n_in);
        auto outputs = CheckpointFunction::apply(at::TensorList(in), segment);
        if (static_cast<int>(outputs.size()) > cap) throw std::runtime_error("checkpoint: more outputs than the caller expects");
        for (size_t i = 0; i < outputs.size(); ++i) out[i] = ctorch::wrap(outputs[i]);
        return static_cast<int>(outputs.size());
    } CT_CATCH_ALL
    return -1;
}

}  // extern "C"
