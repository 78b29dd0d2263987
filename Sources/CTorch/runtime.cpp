// Errors, CUDA start-up, seeds, threads, generators, tensor lifecycle, creation and conversion.
#include "internal.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/core/Formatting.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/full.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/randint.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/randperm.h>
#include <ATen/ops/scalar_tensor.h>
#include <ATen/ops/zeros.h>
#include <c10/core/CachingDeviceAllocator.h>

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <mutex>
#include <sstream>

namespace ctorch {

namespace {
thread_local std::string last_error;
std::string cuda_load_error = "CUDA loading was not attempted";
bool cuda_loaded = false;
}  // namespace

void set_error(const char *message) { last_error = message ? message : "unknown error"; }

at::ScalarType scalar_type(int code) {
    switch (code) {
    case 0: return at::kByte;
    case 1: return at::kChar;
    case 2: return at::kShort;
    case 3: return at::kInt;
    case 4: return at::kLong;
    case 5: return at::kHalf;
    case 6: return at::kFloat;
    case 7: return at::kDouble;
    case 11: return at::kBool;
    case 15: return at::kBFloat16;
    default: throw std::invalid_argument("unsupported dtype code " + std::to_string(code));
    }
}

at::Device device(int code) {
    if (code < 0) return at::Device(at::kCPU);
    return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(code));
}

int device_code(const at::Device &d) {
    if (d.is_cpu()) return -1;
    if (d.is_cuda()) return d.has_index() ? d.index() : 0;
    throw std::invalid_argument("unsupported device " + d.str());
}

at::Scalar scalar(ct_scalar s) {
    switch (s.kind) {
    case 1: return at::Scalar(s.i);
    case 2: return at::Scalar(s.i != 0);
    default: return at::Scalar(s.f);
    }
}

ct_scalar from_scalar(const at::Scalar &s) {
    ct_scalar out{0.0, 0, 0};
    if (s.isBoolean()) {
        out.kind = 2;
        out.i = s.toBool() ? 1 : 0;
        out.f = static_cast<double>(out.i);
    } else if (s.isIntegral(false)) {
        out.kind = 1;
        out.i = s.toLong();
        out.f = static_cast<double>(out.i);
    } else {
        out.f = s.toDouble();
        out.i = static_cast<int64_t>(out.f);
    }
    return out;
}

}  // namespace ctorch

// ATen asks for its CUDA hooks once and caches the answer, so libtorch_cuda must be loaded before
// anything queries CUDA. A static object's constructor runs at load time, before main and any Swift
// code, and after the strings above (same translation unit, declaration order).
static void load_cuda_at_startup() {
    const char *off = std::getenv("SVCO_DISABLE_CUDA");
    if (off != nullptr && off[0] != '\0' && off[0] != '0') {
        ctorch::cuda_load_error = "CUDA disabled by SVCO_DISABLE_CUDA";
        return;
    }
    Dl_info info;
    if (dladdr(reinterpret_cast<void *>(&at::globalContext), &info) == 0 || info.dli_fname == nullptr) {
        ctorch::cuda_load_error = "could not locate libtorch_cpu.so";
        return;
    }
    std::string path(info.dli_fname);
    auto slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? std::string(".") : path.substr(0, slash);
    std::string cuda = dir + "/libtorch_cuda.so";
    if (dlopen(cuda.c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr) {
        const char *err = dlerror();
        ctorch::cuda_load_error = err ? err : ("dlopen failed for " + cuda);
        return;
    }
    ctorch::cuda_loaded = true;
    ctorch::cuda_load_error.clear();
}

namespace {
struct CudaLoader {
    CudaLoader() { load_cuda_at_startup(); }
} cuda_loader;
}  // namespace

extern "C" {

const char *ct_last_error(void) { return ctorch::last_error.c_str(); }

const char *ct_cuda_load_error(void) {
    return ctorch::cuda_loaded ? nullptr : ctorch::cuda_load_error.c_str();
}

int ct_cuda_is_available(void) {
    try { return at::detail::getCUDAHooks().hasCUDA() ? 1 : 0; } CT_CATCH_ALL
    return 0;
}

int ct_cuda_device_count(void) {
    try { return ct_cuda_is_available() ? at::detail::getCUDAHooks().deviceCount() : 0; } CT_CATCH_ALL
    return 0;
}

void ct_cuda_synchronize(int device) {
    try {
        if (ct_cuda_is_available()) at::detail::getCUDAHooks().deviceSynchronize(static_cast<c10::DeviceIndex>(device));
    } CT_CATCH_ALL
}

int64_t ct_cuda_memory_allocated(int device) {
    try {
        if (!ct_cuda_is_available()) return 0;
        auto stats = c10::getDeviceAllocator(at::kCUDA)->getDeviceStats(static_cast<c10::DeviceIndex>(device));
        return stats.allocated_bytes[0].current;
    } CT_CATCH_ALL
    return 0;
}

int64_t ct_cuda_max_memory_allocated(int device) {
    try {
        if (!ct_cuda_is_available()) return 0;
        auto stats = c10::getDeviceAllocator(at::kCUDA)->getDeviceStats(static_cast<c10::DeviceIndex>(device));
        return stats.allocated_bytes[0].peak;
    } CT_CATCH_ALL
    return 0;
}

int64_t ct_cuda_total_memory(int device) {
    try {
        if (!ct_cuda_is_available()) return 0;
        return static_cast<int64_t>(c10::getDeviceAllocator(at::kCUDA)->getMemoryInfo(static_cast<c10::DeviceIndex>(device)).second);
    } CT_CATCH_ALL
    return 0;
}

void ct_manual_seed(uint64_t seed) {
    try { at::manual_seed(seed); } CT_CATCH_ALL
}

void ct_set_num_threads(int n) {
    try { at::set_num_threads(n); } CT_CATCH_ALL
}

int ct_get_num_threads(void) { return at::get_num_threads(); }

void ct_set_allow_tf32(int allow) {
    // torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32, as HF's --tf32 sets both.
    try {
        at::globalContext().setAllowTF32CuBLAS(allow != 0);
        at::globalContext().setAllowTF32CuDNN(allow != 0);
    } CT_CATCH_ALL
}

// MARK: generators

ct_generator ct_generator_new(uint64_t seed) {
    try { return new ct_generator_s{at::make_generator<at::CPUGeneratorImpl>(seed)}; } CT_CATCH_ALL
    return nullptr;
}

void ct_generator_free(ct_generator g) { delete g; }

void ct_generator_set_seed(ct_generator g, uint64_t seed) {
    std::lock_guard<std::mutex> lock(g->g.mutex());
    g->g.set_current_seed(seed);
}

ct_tensor ct_generator_get_state(ct_generator g) {
    std::lock_guard<std::mutex> lock(g->g.mutex());
    CT_TENSOR(g->g.get_state())
}

int ct_generator_set_state(ct_generator g, ct_tensor state) {
    std::lock_guard<std::mutex> lock(g->g.mutex());
    CT_STATUS(g->g.set_state(state->t))
}

// MARK: lifecycle and properties

void ct_free(ct_tensor t) { delete t; }
ct_tensor ct_shallow_clone(ct_tensor t) { CT_TENSOR(at::Tensor(t->t)) }
int ct_defined(ct_tensor t) { return t != nullptr && t->t.defined() ? 1 : 0; }
int ct_dim(ct_tensor t) { return static_cast<int>(t->t.dim()); }

int ct_sizes(ct_tensor t, int64_t *out, int cap) {
    auto s = t->t.sizes();
    for (int i = 0; i < cap && i < static_cast<int>(s.size()); ++i) out[i] = s[i];
    return static_cast<int>(s.size());
}

int ct_strides(ct_tensor t, int64_t *out, int cap) {
    auto s = t->t.strides();
    for (int i = 0; i < cap && i < static_cast<int>(s.size()); ++i) out[i] = s[i];
    return static_cast<int>(s.size());
}

int64_t ct_numel(ct_tensor t) { return t->t.numel(); }
int ct_dtype(ct_tensor t) { return static_cast<int>(t->t.scalar_type()); }
int ct_device(ct_tensor t) {
    try { return ctorch::device_code(t->t.device()); } CT_CATCH_ALL
    return -2;
}
int ct_is_contiguous(ct_tensor t) { return t->t.is_contiguous() ? 1 : 0; }
int64_t ct_element_size(ct_tensor t) { return static_cast<int64_t>(t->t.element_size()); }
void *ct_data_ptr(ct_tensor t) { return t->t.is_cpu() ? t->t.data_ptr() : nullptr; }

// MARK: creation

ct_tensor ct_from_data(const void *data, const int64_t *shape, int ndim, int dtype) {
    try {
        auto out = at::empty(ctorch::ints(shape, ndim), ctorch::options(dtype, -1));
        if (out.numel() > 0) std::memcpy(out.data_ptr(), data, out.nbytes());
        return ctorch::wrap(std::move(out));
    } CT_CATCH_ALL
    return nullptr;
}

ct_tensor ct_from_blob(void *data, const int64_t *shape, int ndim, int dtype,
                       void (*deleter)(void *ctx), void *ctx) {
    CT_TENSOR(at::from_blob(data, ctorch::ints(shape, ndim),
                            [deleter, ctx](void *) { if (deleter) deleter(ctx); },
                            ctorch::options(dtype, -1)))
}

ct_tensor ct_empty(const int64_t *shape, int ndim, int dtype, int device) {
    CT_TENSOR(at::empty(ctorch::ints(shape, ndim), ctorch::options(dtype, device)))
}
ct_tensor ct_zeros(const int64_t *shape, int ndim, int dtype, int device) {
    CT_TENSOR(at::zeros(ctorch::ints(shape, ndim), ctorch::options(dtype, device)))
}
ct_tensor ct_ones(const int64_t *shape, int ndim, int dtype, int device) {
    CT_TENSOR(at::ones(ctorch::ints(shape, ndim), ctorch::options(dtype, device)))
}
ct_tensor ct_full(const int64_t *shape, int ndim, ct_scalar value, int dtype, int device) {
    CT_TENSOR(at::full(ctorch::ints(shape, ndim), ctorch::scalar(value), ctorch::options(dtype, device)))
}
ct_tensor ct_arange(ct_scalar start, ct_scalar end, ct_scalar step, int dtype, int device) {
    CT_TENSOR(at::arange(ctorch::scalar(start), ctorch::scalar(end), ctorch::scalar(step),
                         ctorch::options(dtype, device)))
}

// Seeded draws happen on the CPU and move afterwards, so a seed gives the same numbers on every
// device (the CPU = GPU invariants rely on it).
ct_tensor ct_rand(const int64_t *shape, int ndim, int dtype, int device, ct_generator g) {
    if (g == nullptr) { CT_TENSOR(at::rand(ctorch::ints(shape, ndim), ctorch::options(dtype, device))) }
    CT_TENSOR(at::rand(ctorch::ints(shape, ndim), g->g, ctorch::options(dtype, -1)).to(ctorch::device(device)))
}
ct_tensor ct_randn(const int64_t *shape, int ndim, int dtype, int device, ct_generator g) {
    if (g == nullptr) { CT_TENSOR(at::randn(ctorch::ints(shape, ndim), ctorch::options(dtype, device))) }
    CT_TENSOR(at::randn(ctorch::ints(shape, ndim), g->g, ctorch::options(dtype, -1)).to(ctorch::device(device)))
}
ct_tensor ct_randint(int64_t low, int64_t high, const int64_t *shape, int ndim, int device, ct_generator g) {
    if (g == nullptr) { CT_TENSOR(at::randint(low, high, ctorch::ints(shape, ndim), ctorch::options(4, device))) }
    CT_TENSOR(at::randint(low, high, ctorch::ints(shape, ndim), g->g, ctorch::options(4, -1)).to(ctorch::device(device)))
}
ct_tensor ct_randperm(int64_t n, ct_generator g) {
    if (g == nullptr) { CT_TENSOR(at::randperm(n, ctorch::options(4, -1))) }
    CT_TENSOR(at::randperm(n, g->g, ctorch::options(4, -1)))
}
ct_tensor ct_scalar_tensor(ct_scalar value, int dtype, int device) {
    CT_TENSOR(at::scalar_tensor(ctorch::scalar(value), ctorch::options(dtype, device)))
}

// MARK: conversion and copies

ct_tensor ct_to(ct_tensor t, int dtype, int device, int non_blocking) {
    CT_TENSOR(t->t.to(ctorch::device(device), ctorch::scalar_type(dtype), non_blocking != 0))
}
ct_tensor ct_contiguous(ct_tensor t) { CT_TENSOR(t->t.contiguous()) }
ct_tensor ct_clone(ct_tensor t) { CT_TENSOR(t->t.clone()) }
ct_tensor ct_pin_memory(ct_tensor t) { CT_TENSOR(t->t.pin_memory()) }

int ct_copy_to_buffer(ct_tensor t, void *dst, size_t nbytes) {
    try {
        auto c = t->t.detach().to(at::kCPU).contiguous();
        if (c.nbytes() != nbytes) {
            throw std::invalid_argument("buffer holds " + std::to_string(nbytes) + " bytes, tensor " +
                                        std::to_string(c.nbytes()));
        }
        if (nbytes > 0) std::memcpy(dst, c.data_ptr(), nbytes);
        return 0;
    } CT_CATCH_ALL
    return 1;
}

int ct_copy_(ct_tensor dst, ct_tensor src) { CT_STATUS(dst->t.copy_(src->t)) }

ct_scalar ct_item(ct_tensor t) {
    try { return ctorch::from_scalar(t->t.item()); } CT_CATCH_ALL
    ct_scalar bad{0.0, 0, -1};
    return bad;
}

// MARK: printing

char *ct_to_string(ct_tensor t) {
    try {
        std::ostringstream os;
        os << t->t;
        return strdup(os.str().c_str());
    } CT_CATCH_ALL
    return nullptr;
}

void ct_free_string(char *s) { std::free(s); }

}  // extern "C"
