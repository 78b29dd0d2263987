// torch's c10d: the TCP rendezvous store, the Gloo backend (built directly, as torch's own
// test/cpp/c10d does: C++ has no by-name factory), the NCCL backend through its bridge library, and
// collectives with explicit waits whose errors name the collective, the rank and the cause.
//
// ProcessGroupGloo.hpp is guarded by USE_C10D_GLOO and includes gloo headers the wheel lacks; the
// Makefile extracts Debian's libgloo-dev headers for it. Only libtorch_cpu's own gloo is ever linked:
// every gloo type this TU touches is held by pointer.
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif

#include "internal.hpp"

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>

#include <chrono>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <thread>
#include <dlfcn.h>
#include <sstream>

struct ct_store_s {
    c10::intrusive_ptr<c10d::Store> store;
    int port = -1;  // the TCPStore's port; -1 for a prefix store
};

struct ct_process_group_s {
    c10::intrusive_ptr<c10d::Backend> backend;
    int rank;
    int size;
    std::chrono::milliseconds timeout;
    std::string name;
};

struct ct_work_s {
    c10::intrusive_ptr<c10d::Work> work;
    std::string what;  // "all_reduce (sum) of float32[1024] on rank 1 of 2 (gloo)"
    std::chrono::milliseconds timeout;
};

namespace {

using ms = std::chrono::milliseconds;

c10d::ReduceOp reduce_op(int op) {
    switch (op) {
    case CT_REDUCE_SUM: return c10d::ReduceOp::SUM;
    case CT_REDUCE_AVG: return c10d::ReduceOp::AVG;
    case CT_REDUCE_MAX: return c10d::ReduceOp::MAX;
    case CT_REDUCE_MIN: return c10d::ReduceOp::MIN;
    case CT_REDUCE_PRODUCT: return c10d::ReduceOp::PRODUCT;
    default: throw std::invalid_argument("unknown reduce op " + std::to_string(op));
    }
}

const char *reduce_name(int op) {
    switch (op) {
    case CT_REDUCE_SUM: return "sum";
    case CT_REDUCE_AVG: return "avg";
    case CT_REDUCE_MAX: return "max";
    case CT_REDUCE_MIN: return "min";
    case CT_REDUCE_PRODUCT: return "product";
    default: return "?";
    }
}

std::string describe(const ct_process_group_s *pg, const std::string &collective, const at::Tensor *t) {
    std::ostringstream s;
    s << collective;
    if (t != nullptr) s << " of " << c10::toString(t->scalar_type()) << t->sizes();
    s << " on rank " << pg->rank << " of " << pg->size << " (" << pg->name << ")";
    return s.str();
}

// Starting a collective can itself fail (a closed connection is often noticed here); both that and
// a failed wait report the same description.
ct_work start(ct_process_group pg, std::string what, const std::function<c10::intrusive_ptr<c10d::Work>()> &op) {
    try {
        return new ct_work_s{op(), std::move(what), pg->timeout};
    } catch (const c10::Error &e) {
        ctorch::set_error((what + " failed: " + e.what_without_backtrace()).c_str());
    } catch (const std::exception &e) {
        ctorch::set_error((what + " failed: " + e.what()).c_str());
    } catch (...) {
        ctorch::set_error((what + " failed: unknown C++ exception").c_str());
    }
    return nullptr;
}

ct_process_group wrap_backend(c10::intrusive_ptr<c10d::Backend> backend, int rank, int size, ms timeout) {
    std::string name = backend->getBackendName();
    return new ct_process_group_s{std::move(backend), rank, size, timeout, std::move(name)};
}

// The NCCL bridge's entry point (Sources/CTorch/nccl/nccl_bridge.cpp): returns a released
// c10d::Backend* (ownership passes to the caller) or NULL with a message in `error`.
using nccl_factory = void *(*)(void *store, int rank, int size, int64_t timeout_ms, int device, char *error,
                               size_t error_capacity);

}  // namespace

extern "C" {

// MARK: stores

ct_store ct_tcp_store_new(const char *host, int port, int world_size, int is_server, int64_t timeout_ms) {
    try {
        if (port < 0 || port > 65535) throw std::invalid_argument("port " + std::to_string(port) + " is not in 0...65535");
        c10d::TCPStoreOptions opts;
        opts.port = static_cast<uint16_t>(port);
        opts.isServer = is_server != 0;
        opts.numWorkers = world_size > 0 ? std::optional<size_t>(static_cast<size_t>(world_size)) : std::nullopt;
        // As torch's Python TCPStore (wait_for_workers=True): every member counts itself in and waits for all.
        opts.waitWorkers = world_size > 0;
        opts.timeout = ms(timeout_ms);
        // torch's client handshake (TCPStore::ping) reads without a timeout: a port held by a program
        // that accepts but never answers would hang this rank for good. Construct on a helper thread
        // and give up a little after the store's own timeout; the abandoned thread ends with the process.
        auto result = std::make_shared<std::promise<c10::intrusive_ptr<c10d::TCPStore>>>();
        auto future = result->get_future();
        std::string address(host);
        std::thread([result, address, opts] {
            try {
                result->set_value(c10::make_intrusive<c10d::TCPStore>(address, opts));
            } catch (...) {
                result->set_exception(std::current_exception());
            }
        }).detach();
        if (future.wait_for(ms(timeout_ms) + std::chrono::seconds(5)) != std::future_status::ready) {
            throw std::runtime_error("no TCPStore answered at " + address + ":" + std::to_string(port) + " within " +
                                     std::to_string(timeout_ms) + " ms (is another program listening on that port?)");
        }
        auto store = future.get();
        int bound = static_cast<int>(store->getPort());
        return new ct_store_s{std::move(store), bound};
    }
    CT_CATCH_ALL
    return nullptr;
}

int ct_tcp_store_port(ct_store s) { return s->port; }

ct_store ct_prefix_store_new(const char *prefix, ct_store base) {
    try {
        return new ct_store_s{c10::make_intrusive<c10d::PrefixStore>(std::string(prefix), base->store), -1};
    }
    CT_CATCH_ALL
    return nullptr;
}

void ct_store_free(ct_store s) { delete s; }

int ct_store_set(ct_store s, const char *key, const void *value, size_t n) {
    CT_STATUS({
        const auto *p = static_cast<const uint8_t *>(value);
        s->store->set(std::string(key), std::vector<uint8_t>(p, p + n));
    })
}

int64_t ct_store_get(ct_store s, const char *key, void *out, size_t cap) {
    try {
        auto v = s->store->get(std::string(key));
        if (out != nullptr && cap > 0) std::memcpy(out, v.data(), std::min(cap, v.size()));
        return static_cast<int64_t>(v.size());
    }
    CT_CATCH_ALL
    return -1;
}

int ct_store_add(ct_store s, const char *key, int64_t delta, int64_t *result) {
    CT_STATUS(*result = s->store->add(std::string(key), delta))
}

// MARK: process groups

ct_process_group ct_pg_gloo_new(ct_store store, int rank, int size, int64_t timeout_ms, const char *interface,
                                int threads) {
    try {
        auto options = c10d::ProcessGroupGloo::Options::create(ms(timeout_ms));
        if (interface != nullptr && interface[0] != '\0') {
            options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(std::string(interface)));
        } else {
            options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
        }
        if (threads > 0) options->threads = threads;
        auto backend = c10::make_intrusive<c10d::ProcessGroupGloo>(store->store, rank, size, options);
        return wrap_backend(std::move(backend), rank, size, ms(timeout_ms));
    }
    CT_CATCH_ALL
    return nullptr;
}

ct_process_group ct_pg_nccl_new(const char *library_path, ct_store store, int rank, int size, int64_t timeout_ms,
                                int device) {
    try {
        // RTLD_GLOBAL is not needed: the bridge resolves torch's symbols from libraries already loaded.
        void *lib = dlopen(library_path, RTLD_NOW | RTLD_LOCAL);
        if (lib == nullptr) {
            const char *err = dlerror();
            throw std::runtime_error(std::string("cannot load the NCCL bridge ") + library_path + ": " +
                                     (err ? err : "dlopen failed"));
        }
        auto factory = reinterpret_cast<nccl_factory>(dlsym(lib, "svco_nccl_backend_new"));
        if (factory == nullptr) throw std::runtime_error(std::string(library_path) + " has no svco_nccl_backend_new");
        char error[2048] = {0};
        void *raw = factory(store->store.get(), rank, size, timeout_ms, device, error, sizeof error);
        if (raw == nullptr) throw std::runtime_error(error[0] ? error : "the NCCL bridge failed without a message");
        auto backend = c10::intrusive_ptr<c10d::Backend>::reclaim(static_cast<c10d::Backend *>(raw));
        return wrap_backend(std::move(backend), rank, size, ms(timeout_ms));
    }
    CT_CATCH_ALL
    return nullptr;
}

void ct_pg_free(ct_process_group pg) { delete pg; }

const char *ct_pg_backend_name(ct_process_group pg) { return pg->name.c_str(); }

// MARK: collectives

ct_work ct_pg_all_reduce(ct_process_group pg, ct_tensor t, int op) {
    std::string what = describe(pg, std::string("all_reduce (") + reduce_name(op) + ")", &t->t);
    return start(pg, std::move(what), [&] {
        std::vector<at::Tensor> ts{t->t};
        c10d::AllreduceOptions o;
        o.reduceOp = reduce_op(op);
        o.timeout = pg->timeout;
        return pg->backend->allreduce(ts, o);
    });
}

ct_work ct_pg_broadcast(ct_process_group pg, ct_tensor t, int root) {
    std::string what = describe(pg, "broadcast (from rank " + std::to_string(root) + ")", &t->t);
    return start(pg, std::move(what), [&] {
        if (root < 0 || root >= pg->size) throw std::invalid_argument("root rank out of range");
        std::vector<at::Tensor> ts{t->t};
        c10d::BroadcastOptions o;
        o.rootRank = root;
        o.timeout = pg->timeout;
        return pg->backend->broadcast(ts, o);
    });
}

ct_work ct_pg_all_gather(ct_process_group pg, ct_tensor output, ct_tensor input) {
    std::string what = describe(pg, "all_gather", &input->t);
    return start(pg, std::move(what), [&] {
        if (output->t.numel() != input->t.numel() * pg->size)
            throw std::invalid_argument("output holds " + std::to_string(output->t.numel()) + " elements, not world size × " +
                                        std::to_string(input->t.numel()));
        c10d::AllgatherOptions o;
        o.timeout = pg->timeout;
        return pg->backend->_allgather_base(output->t, input->t, o);
    });
}

ct_work ct_pg_reduce_scatter(ct_process_group pg, ct_tensor output, ct_tensor input, int op) {
    std::string what = describe(pg, std::string("reduce_scatter (") + reduce_name(op) + ")", &input->t);
    return start(pg, std::move(what), [&] {
        if (input->t.numel() != output->t.numel() * pg->size)
            throw std::invalid_argument("input holds " + std::to_string(input->t.numel()) + " elements, not world size × " +
                                        std::to_string(output->t.numel()));
        c10d::ReduceScatterOptions o;
        o.reduceOp = reduce_op(op);
        o.timeout = pg->timeout;
        return pg->backend->_reduce_scatter_base(output->t, input->t, o);
    });
}

ct_work ct_pg_barrier(ct_process_group pg) {
    std::string what = describe(pg, "barrier", nullptr);
    return start(pg, std::move(what), [&] {
        c10d::BarrierOptions o;
        o.timeout = pg->timeout;
        return pg->backend->barrier(o);
    });
}

int ct_work_wait(ct_work w) {
    try {
        // Work::wait throws the collective's own error (a closed connection, Gloo's timeout) or, past
        // the timeout, its own; a `false` return means the wait itself timed out.
        if (!w->work->wait(w->timeout)) throw std::runtime_error("timed out after " + std::to_string(w->timeout.count()) + " ms");
        return 0;
    } catch (const c10::Error &e) {
        ctorch::set_error((w->what + " failed: " + e.what_without_backtrace()).c_str());
    } catch (const std::exception &e) {
        ctorch::set_error((w->what + " failed: " + e.what()).c_str());
    } catch (...) {
        ctorch::set_error((w->what + " failed: unknown C++ exception").c_str());
    }
    return 1;
}

void ct_work_free(ct_work w) { delete w; }

}  // extern "C"
