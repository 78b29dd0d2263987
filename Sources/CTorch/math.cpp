// Elementwise arithmetic, comparisons, linear algebra and reductions.
#include "internal.hpp"

#include <ATen/ScalarOps.h>
#include <ATen/ops/allclose.h>
#include <ATen/ops/atan2.h>
#include <ATen/ops/bmm.h>
#include <ATen/ops/gelu.h>
#include <ATen/ops/silu.h>
#include <ATen/ops/linalg_vector_norm.h>
#include <ATen/ops/linear.h>
#include <ATen/ops/log_sigmoid.h>
#include <ATen/ops/logsumexp.h>
#include <ATen/ops/matmul.h>
#include <ATen/ops/maximum.h>
#include <ATen/ops/minimum.h>
#include <ATen/ops/multinomial.h>
#include <ATen/ops/pow.h>
#include <ATen/ops/remainder.h>

namespace {

/// A scalar as Python passes one: a 0-dim "wrapped number" tensor, which takes part in type
/// promotion like a Python number (int tensor * 2.5 -> float32, not float64).
at::Tensor wrapped(const at::Scalar &s, const at::Device &device) {
    at::Tensor t = c10::scalar_to_tensor(s, device);
    t.unsafeGetTensorImpl()->set_wrapped_number(true);
    return t;
}

at::Tensor binary(int op, const at::Tensor &a, const at::Tensor &b) {
    switch (op) {
    case CT_ADD: return a.add(b);
    case CT_SUB: return a.sub(b);
    case CT_MUL: return a.mul(b);
    case CT_DIV: return a.div(b);
    case CT_POW: return a.pow(b);
    case CT_MAXIMUM: return at::maximum(a, b);
    case CT_MINIMUM: return at::minimum(a, b);
    case CT_REMAINDER: return a.remainder(b);
    case CT_EQ: return a.eq(b);
    case CT_NE: return a.ne(b);
    case CT_LT: return a.lt(b);
    case CT_LE: return a.le(b);
    case CT_GT: return a.gt(b);
    case CT_GE: return a.ge(b);
    case CT_LOGICAL_AND: return a.logical_and(b);
    case CT_LOGICAL_OR: return a.logical_or(b);
    case CT_ATAN2: return at::atan2(a, b);
    default: throw std::invalid_argument("unknown binary op " + std::to_string(op));
    }
}

at::Tensor binary_scalar(int op, const at::Tensor &a, const at::Scalar &b) {
    switch (op) {
    case CT_ADD: return a.add(b);
    case CT_SUB: return a.sub(b);
    case CT_MUL: return a.mul(b);
    case CT_DIV: return a.div(b);
    case CT_POW: return a.pow(b);
    case CT_REMAINDER: return a.remainder(b);
    case CT_EQ: return a.eq(b);
    case CT_NE: return a.ne(b);
    case CT_LT: return a.lt(b);
    case CT_LE: return a.le(b);
    case CT_GT: return a.gt(b);
    case CT_GE: return a.ge(b);
    case CT_MAXIMUM: return a.clamp_min(b);
    case CT_MINIMUM: return a.clamp_max(b);
    default: return binary(op, a, wrapped(b, a.device()));
    }
}

void binary_inplace(int op, at::Tensor &a, const at::Tensor &b) {
    switch (op) {
    case CT_ADD: a.add_(b); return;
    case CT_SUB: a.sub_(b); return;
    case CT_MUL: a.mul_(b); return;
    case CT_DIV: a.div_(b); return;
    case CT_POW: a.pow_(b); return;
    default: a.copy_(binary(op, a, b)); return;
    }
}

void binary_scalar_inplace(int op, at::Tensor &a, const at::Scalar &b) {
    switch (op) {
    case CT_ADD: a.add_(b); return;
    case CT_SUB: a.sub_(b); return;
    case CT_MUL: a.mul_(b); return;
    case CT_DIV: a.div_(b); return;
    case CT_POW: a.pow_(b); return;
    default: a.copy_(binary_scalar(op, a, b)); return;
    }
}

at::Tensor unary(int op, const at::Tensor &t) {
    switch (op) {
    case CT_NEG: return t.neg();
    case CT_EXP: return t.exp();
    case CT_LOG: return t.log();
    case CT_SQRT: return t.sqrt();
    case CT_RSQRT: return t.rsqrt();
    case CT_ABS: return t.abs();
    case CT_TANH: return t.tanh();
    case CT_SIGMOID: return t.sigmoid();
    case CT_LOGSIGMOID: return at::log_sigmoid(t);
    case CT_RELU: return t.relu();
    case CT_SILU: return at::silu(t);
    case CT_GELU: return at::gelu(t, "none");
    case CT_GELU_TANH: return at::gelu(t, "tanh");
    // CLIP's activation: x * sigmoid(1.702 x).
    case CT_QUICK_GELU: return t.mul(t.mul(1.702).sigmoid());
    case CT_SIN: return t.sin();
    case CT_COS: return t.cos();
    case CT_LOGICAL_NOT: return t.logical_not();
    case CT_FLOOR: return t.floor();
    case CT_CEIL: return t.ceil();
    case CT_ROUND: return t.round();
    case CT_SIGN: return t.sign();
    case CT_RECIPROCAL: return t.reciprocal();
    case CT_ISNAN: return t.isnan();
    case CT_ISINF: return t.isinf();
    case CT_ISFINITE: return t.isfinite();
    case CT_LOG1P: return t.log1p();
    case CT_EXPM1: return t.expm1();
    case CT_SQUARE: return t.square();
    default: throw std::invalid_argument("unknown unary op " + std::to_string(op));
    }
}

std::optional<at::IntArrayRef> opt_dims(const int64_t *dims, int ndim) {
    if (dims == nullptr || ndim <= 0) return std::nullopt;
    return ctorch::ints(dims, ndim);
}

ct_tensor with_indices(std::tuple<at::Tensor, at::Tensor> r, ct_tensor *indices) {
    if (indices != nullptr) *indices = ctorch::wrap(std::get<1>(r));
    return ctorch::wrap(std::get<0>(r));
}

}  // namespace

extern "C" {

ct_tensor ct_binary(int op, ct_tensor a, ct_tensor b) { CT_TENSOR(binary(op, a->t, b->t)) }
ct_tensor ct_binary_scalar(int op, ct_tensor a, ct_scalar b) { CT_TENSOR(binary_scalar(op, a->t, ctorch::scalar(b))) }
ct_tensor ct_scalar_binary(int op, ct_scalar a, ct_tensor b) {
    CT_TENSOR(binary(op, wrapped(ctorch::scalar(a), b->t.device()), b->t))
}
int ct_binary_(int op, ct_tensor a, ct_tensor b) { CT_STATUS(binary_inplace(op, a->t, b->t)) }
int ct_binary_scalar_(int op, ct_tensor a, ct_scalar b) { CT_STATUS(binary_scalar_inplace(op, a->t, ctorch::scalar(b))) }
int ct_add_scaled_(ct_tensor a, ct_tensor b, ct_scalar alpha) { CT_STATUS(a->t.add_(b->t, ctorch::scalar(alpha))) }

ct_tensor ct_unary(int op, ct_tensor t) { CT_TENSOR(unary(op, t->t)) }
ct_tensor ct_clamp(ct_tensor t, ct_scalar lo, int has_lo, ct_scalar hi, int has_hi) {
    std::optional<at::Scalar> l, h;
    if (has_lo) l = ctorch::scalar(lo);
    if (has_hi) h = ctorch::scalar(hi);
    CT_TENSOR(t->t.clamp(l, h))
}
int ct_fill_(ct_tensor t, ct_scalar value) { CT_STATUS(t->t.fill_(ctorch::scalar(value))) }
int ct_zero_(ct_tensor t) { CT_STATUS(t->t.zero_()) }
int ct_mul_scalar_(ct_tensor t, ct_scalar value) { CT_STATUS(t->t.mul_(ctorch::scalar(value))) }

ct_tensor ct_matmul(ct_tensor a, ct_tensor b) { CT_TENSOR(at::matmul(a->t, b->t)) }
ct_tensor ct_bmm(ct_tensor a, ct_tensor b) { CT_TENSOR(at::bmm(a->t, b->t)) }
ct_tensor ct_linear(ct_tensor x, ct_tensor weight, ct_tensor bias) {
    CT_TENSOR(at::linear(x->t, weight->t, ctorch::optional_tensor(bias)))
}

ct_tensor ct_reduce(int op, ct_tensor t, const int64_t *dims, int ndim, int keepdim) {
    try {
        const at::Tensor &x = t->t;
        bool all = dims == nullptr || ndim <= 0;
        bool keep = keepdim != 0;
        switch (op) {
        case CT_SUM: return ctorch::wrap(all ? x.sum() : x.sum(ctorch::ints(dims, ndim), keep));
        case CT_MEAN: return ctorch::wrap(all ? x.mean() : x.mean(ctorch::ints(dims, ndim), keep));
        case CT_AMAX: return ctorch::wrap(x.amax(all ? at::IntArrayRef{} : ctorch::ints(dims, ndim), keep));
        case CT_AMIN: return ctorch::wrap(x.amin(all ? at::IntArrayRef{} : ctorch::ints(dims, ndim), keep));
        case CT_PROD:
            if (all) return ctorch::wrap(x.prod());
            if (ndim != 1) throw std::invalid_argument("prod reduces one dim at a time");
            return ctorch::wrap(x.prod(dims[0], keep));
        case CT_ANY: return ctorch::wrap(all ? x.any() : x.any(ctorch::ints(dims, ndim), keep));
        case CT_ALL: return ctorch::wrap(all ? x.all() : x.all(ctorch::ints(dims, ndim), keep));
        default: throw std::invalid_argument("unknown reduction " + std::to_string(op));
        }
    } CT_CATCH_ALL
    return nullptr;
}

ct_tensor ct_max_dim(ct_tensor t, int64_t dim, int keepdim, ct_tensor *indices) {
    try { return with_indices(t->t.max(dim, keepdim != 0), indices); } CT_CATCH_ALL
    return nullptr;
}
ct_tensor ct_min_dim(ct_tensor t, int64_t dim, int keepdim, ct_tensor *indices) {
    try { return with_indices(t->t.min(dim, keepdim != 0), indices); } CT_CATCH_ALL
    return nullptr;
}
ct_tensor ct_argmax(ct_tensor t, int64_t dim, int keepdim) { CT_TENSOR(t->t.argmax(dim, keepdim != 0)) }
ct_tensor ct_topk(ct_tensor t, int64_t k, int64_t dim, int largest, int sorted, ct_tensor *indices) {
    try { return with_indices(t->t.topk(k, dim, largest != 0, sorted != 0), indices); } CT_CATCH_ALL
    return nullptr;
}
ct_tensor ct_sort(ct_tensor t, int64_t dim, int descending, ct_tensor *indices) {
    try { return with_indices(t->t.sort(dim, descending != 0), indices); } CT_CATCH_ALL
    return nullptr;
}
ct_tensor ct_cumsum(ct_tensor t, int64_t dim) { CT_TENSOR(t->t.cumsum(dim)) }
ct_tensor ct_softmax(ct_tensor t, int64_t dim) { CT_TENSOR(t->t.softmax(dim)) }
ct_tensor ct_log_softmax(ct_tensor t, int64_t dim) { CT_TENSOR(t->t.log_softmax(dim)) }
ct_tensor ct_logsumexp(ct_tensor t, const int64_t *dims, int ndim, int keepdim) {
    CT_TENSOR(at::logsumexp(t->t, ctorch::ints(dims, ndim), keepdim != 0))
}
ct_tensor ct_norm(ct_tensor t, double p, const int64_t *dims, int ndim, int keepdim) {
    CT_TENSOR(at::linalg_vector_norm(t->t, p, opt_dims(dims, ndim), keepdim != 0))
}
ct_tensor ct_multinomial(ct_tensor probs, int64_t n, ct_generator g) {
    if (g == nullptr) { CT_TENSOR(at::multinomial(probs->t, n, false)) }
    // Seeded sampling draws on the CPU so that a seed means the same tokens on every device.
    CT_TENSOR(at::multinomial(probs->t.to(at::kCPU), n, false, g->g).to(probs->t.device()))
}
int ct_allclose(ct_tensor a, ct_tensor b, double rtol, double atol) {
    try { return at::allclose(a->t, b->t, rtol, atol) ? 1 : 0; } CT_CATCH_ALL
    return -1;
}

}  // extern "C"
