// Shared plumbing of the C shim: the handle type, argument conversion and the exception guards.
#pragma once

#include "ctorch.h"

#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

#include <stdexcept>
#include <string>
#include <vector>

struct ct_tensor_s {
    at::Tensor t;
};

struct ct_generator_s {
    at::Generator g;
};

namespace ctorch {

void set_error(const char *message);

inline ct_tensor wrap(at::Tensor t) { return new ct_tensor_s{std::move(t)}; }

/// Torch's ScalarType for our dtype code, refusing codes svco does not support.
at::ScalarType scalar_type(int code);
at::Device device(int code);
int device_code(const at::Device &d);
at::Scalar scalar(ct_scalar s);
ct_scalar from_scalar(const at::Scalar &s);

inline at::IntArrayRef ints(const int64_t *p, int n) {
    return at::IntArrayRef(p, static_cast<size_t>(n < 0 ? 0 : n));
}
inline at::TensorOptions options(int dtype, int dev) {
    return at::TensorOptions().dtype(scalar_type(dtype)).device(device(dev));
}
inline std::vector<at::Tensor> tensors(const ct_tensor *ts, int n) {
    std::vector<at::Tensor> out;
    out.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) out.push_back(ts[i]->t);
    return out;
}
inline std::optional<at::Tensor> optional_tensor(ct_tensor t) {
    if (t == nullptr) return std::nullopt;
    return t->t;
}

}  // namespace ctorch

// Guards: every extern "C" body runs inside one of these, so no C++ exception crosses into Swift.
#define CT_CATCH_ALL                                                        \
    catch (const c10::Error &e) { ctorch::set_error(e.what_without_backtrace()); } \
    catch (const std::exception &e) { ctorch::set_error(e.what()); }        \
    catch (...) { ctorch::set_error("unknown C++ exception"); }

/// Body of a function returning a new tensor (NULL on failure).
#define CT_TENSOR(...)                                  \
    try { return ctorch::wrap(__VA_ARGS__); } CT_CATCH_ALL \
    return nullptr;

/// Body of a function returning 0 on success, 1 on failure.
#define CT_STATUS(...)                      \
    try { __VA_ARGS__; return 0; } CT_CATCH_ALL \
    return 1;
