// The NCCL backend of c10d as a library of its own, `libsvco_nccl_bridge.so`, which
// ct_pg_nccl_new (distributed.cpp) loads at run time, after libtorch_cuda. ProcessGroupNCCL lives
// in libtorch_cuda and its header needs nccl.h and CUDA headers; svco itself never links CUDA, so
// this one translation unit is built apart by `make nccl-bridge` against pinned header wheels (the
// nccl.h version must be torch's pin: it decides the layout of ProcessGroupNCCL::Options).
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL 1
#endif

#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#include <c10/cuda/CUDAFunctions.h>

#include <chrono>
#include <cstring>
#include <string>

namespace {
void copy_message(const std::string &text, char *error, size_t capacity) {
    if (error == nullptr || capacity == 0) return;
    std::strncpy(error, text.c_str(), capacity - 1);
    error[capacity - 1] = '\0';
}
}  // namespace

/// Creates an NCCL process group over `store` (a borrowed c10d::Store*) for `rank` of `size` on CUDA
/// device `device`, with `timeout_ms` for the watchdog and blocking waits, and connects its
/// communicator now (so a missing peer shows up here, not at the first collective). Returns a
/// c10d::Backend* whose reference passes to the caller, or NULL with a message in `error`.
extern "C" __attribute__((visibility("default"))) void *svco_nccl_backend_new(void *store, int rank, int size,
                                                                              int64_t timeout_ms, int device,
                                                                              char *error, size_t error_capacity) {
    try {
        c10::cuda::set_device(static_cast<c10::DeviceIndex>(device));
        auto borrowed = c10::intrusive_ptr<c10d::Store>::reclaim_copy(static_cast<c10d::Store *>(store));
        auto options = c10d::ProcessGroupNCCL::Options::create();
        options->timeout = std::chrono::milliseconds(timeout_ms);
        auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(borrowed, rank, size, options);
        group->eagerConnectSingleDevice(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(device)));
        c10d::Backend *backend = group.release();
        return backend;
    } catch (const c10::Error &e) {
        copy_message(e.what_without_backtrace(), error, error_capacity);
    } catch (const std::exception &e) {
        copy_message(e.what(), error, error_capacity);
    } catch (...) {
        copy_message("unknown C++ exception in the NCCL bridge", error, error_capacity);
    }
    return nullptr;
}
