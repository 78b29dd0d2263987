// ctorch — the C face of libtorch for Swift.
//
// Every function catches C++ exceptions. A function that returns a tensor returns NULL on
// failure; one that returns int returns non-zero on failure. `ct_last_error()` then holds torch's
// message (without its C++ backtrace) for the calling thread until the next failure.
//
// A `ct_tensor` owns one reference to an at::Tensor and must be released with `ct_free`.
// Arguments are borrowed; results are new references.
#ifndef CTORCH_H
#define CTORCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_tensor_s *ct_tensor;
typedef struct ct_generator_s *ct_generator;

/// A number with its kind, so that integer tensors stay integer under scalar arithmetic.
typedef struct {
    double f;
    int64_t i;
    int kind;  // 0 floating, 1 integer, 2 boolean (i != 0)
} ct_scalar;

/// Devices are encoded as one integer: -1 is the CPU, n >= 0 is cuda:n.
/// Dtypes use torch's ScalarType numbering (Byte 0, Int 3, Long 4, Half 5, Float 6, Double 7,
/// Bool 11, BFloat16 15).

// MARK: errors, runtime
const char *ct_last_error(void);
/// Result of loading libtorch_cuda at start-up: NULL if it loaded, else dlopen's message.
const char *ct_cuda_load_error(void);
int ct_cuda_is_available(void);
int ct_cuda_device_count(void);
void ct_cuda_synchronize(int device);
void ct_manual_seed(uint64_t seed);
void ct_set_num_threads(int n);
int ct_get_num_threads(void);
/// TF32 matmuls and convolutions on CUDA (torch.backends.{cuda.matmul,cudnn}.allow_tf32).
void ct_set_allow_tf32(int allow);
/// Bytes currently allocated / peak on a CUDA device (0 when CUDA is off).
int64_t ct_cuda_memory_allocated(int device);
int64_t ct_cuda_max_memory_allocated(int device);
/// The device's total memory in bytes (cudaMemGetInfo's total); 0 without CUDA or on failure.
int64_t ct_cuda_total_memory(int device);

// MARK: generators (CPU; samples for other devices are drawn on the CPU and moved)
ct_generator ct_generator_new(uint64_t seed);
void ct_generator_free(ct_generator g);
void ct_generator_set_seed(ct_generator g, uint64_t seed);
/// Opaque generator state as a uint8 tensor (for exact resume).
ct_tensor ct_generator_get_state(ct_generator g);
int ct_generator_set_state(ct_generator g, ct_tensor state);

// MARK: lifecycle and properties
void ct_free(ct_tensor t);
ct_tensor ct_shallow_clone(ct_tensor t);
int ct_defined(ct_tensor t);
int ct_dim(ct_tensor t);
/// Writes min(dim, cap) sizes; returns dim.
int ct_sizes(ct_tensor t, int64_t *out, int cap);
int ct_strides(ct_tensor t, int64_t *out, int cap);
int64_t ct_numel(ct_tensor t);
int ct_dtype(ct_tensor t);
int ct_device(ct_tensor t);
int ct_is_contiguous(ct_tensor t);
int64_t ct_element_size(ct_tensor t);
/// Pointer to the first element (CPU tensors only; NULL otherwise).
void *ct_data_ptr(ct_tensor t);

// MARK: creation
ct_tensor ct_from_data(const void *data, const int64_t *shape, int ndim, int dtype);
/// Wraps memory without copying; `deleter(ctx)` runs when the last tensor using it is freed.
ct_tensor ct_from_blob(void *data, const int64_t *shape, int ndim, int dtype,
                       void (*deleter)(void *ctx), void *ctx);
ct_tensor ct_empty(const int64_t *shape, int ndim, int dtype, int device);
ct_tensor ct_zeros(const int64_t *shape, int ndim, int dtype, int device);
ct_tensor ct_ones(const int64_t *shape, int ndim, int dtype, int device);
ct_tensor ct_full(const int64_t *shape, int ndim, ct_scalar value, int dtype, int device);
ct_tensor ct_arange(ct_scalar start, ct_scalar end, ct_scalar step, int dtype, int device);
ct_tensor ct_rand(const int64_t *shape, int ndim, int dtype, int device, ct_generator g);
ct_tensor ct_randn(const int64_t *shape, int ndim, int dtype, int device, ct_generator g);
ct_tensor ct_randint(int64_t low, int64_t high, const int64_t *shape, int ndim, int device,
                     ct_generator g);
ct_tensor ct_randperm(int64_t n, ct_generator g);
ct_tensor ct_scalar_tensor(ct_scalar value, int dtype, int device);

// MARK: conversion and copies
ct_tensor ct_to(ct_tensor t, int dtype, int device, int non_blocking);
ct_tensor ct_contiguous(ct_tensor t);
ct_tensor ct_clone(ct_tensor t);
/// A copy in page-locked host memory (needs CUDA in the process: the caller checks).
ct_tensor ct_pin_memory(ct_tensor t);
/// Copies all elements (as contiguous, on CPU) into `dst` of exactly `nbytes`.
int ct_copy_to_buffer(ct_tensor t, void *dst, size_t nbytes);
int ct_copy_(ct_tensor dst, ct_tensor src);
/// The single element's value; kind -1 on failure.
ct_scalar ct_item(ct_tensor t);

// MARK: views and indexing
ct_tensor ct_view(ct_tensor t, const int64_t *shape, int ndim);
ct_tensor ct_reshape(ct_tensor t, const int64_t *shape, int ndim);
ct_tensor ct_permute(ct_tensor t, const int64_t *dims, int ndim);
ct_tensor ct_transpose(ct_tensor t, int64_t d0, int64_t d1);
ct_tensor ct_narrow(ct_tensor t, int64_t dim, int64_t start, int64_t length);
ct_tensor ct_slice(ct_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step);
ct_tensor ct_select(ct_tensor t, int64_t dim, int64_t index);
ct_tensor ct_index_select(ct_tensor t, int64_t dim, ct_tensor index);
ct_tensor ct_gather(ct_tensor t, int64_t dim, ct_tensor index);
ct_tensor ct_scatter(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor src);
ct_tensor ct_index_put(ct_tensor t, ct_tensor mask_or_index, ct_tensor values, int accumulate);
ct_tensor ct_masked_select(ct_tensor t, ct_tensor mask);
ct_tensor ct_masked_fill(ct_tensor t, ct_tensor mask, ct_scalar value);
ct_tensor ct_where(ct_tensor cond, ct_tensor a, ct_tensor b);
ct_tensor ct_nonzero(ct_tensor t);
ct_tensor ct_cat(const ct_tensor *ts, int n, int64_t dim);
ct_tensor ct_stack(const ct_tensor *ts, int n, int64_t dim);
/// Splits into pieces of the given sizes; writes up to `cap` results, returns the count.
int ct_split_with_sizes(ct_tensor t, const int64_t *sizes, int n, int64_t dim, ct_tensor *out, int cap);
int ct_chunk(ct_tensor t, int64_t chunks, int64_t dim, ct_tensor *out, int cap);
ct_tensor ct_expand(ct_tensor t, const int64_t *shape, int ndim);
ct_tensor ct_repeat(ct_tensor t, const int64_t *repeats, int ndim);
ct_tensor ct_repeat_interleave(ct_tensor t, int64_t repeats, int64_t dim);
ct_tensor ct_flatten(ct_tensor t, int64_t start, int64_t end);
ct_tensor ct_unsqueeze(ct_tensor t, int64_t dim);
ct_tensor ct_squeeze(ct_tensor t, int64_t dim);
ct_tensor ct_squeeze_all(ct_tensor t);
ct_tensor ct_flip(ct_tensor t, const int64_t *dims, int ndim);
ct_tensor ct_tril(ct_tensor t, int64_t diagonal);
ct_tensor ct_triu(ct_tensor t, int64_t diagonal);

// MARK: elementwise math
enum {
    CT_ADD, CT_SUB, CT_MUL, CT_DIV, CT_POW, CT_MAXIMUM, CT_MINIMUM, CT_REMAINDER,
    CT_EQ, CT_NE, CT_LT, CT_LE, CT_GT, CT_GE, CT_LOGICAL_AND, CT_LOGICAL_OR, CT_ATAN2,
};
ct_tensor ct_binary(int op, ct_tensor a, ct_tensor b);
ct_tensor ct_binary_scalar(int op, ct_tensor a, ct_scalar b);
/// Scalar on the left: b op a.
ct_tensor ct_scalar_binary(int op, ct_scalar a, ct_tensor b);
/// In place: a op= b.
int ct_binary_(int op, ct_tensor a, ct_tensor b);
int ct_binary_scalar_(int op, ct_tensor a, ct_scalar b);
/// a + alpha * b in place (the optimiser's and accumulation's workhorse).
int ct_add_scaled_(ct_tensor a, ct_tensor b, ct_scalar alpha);

enum {
    CT_NEG, CT_EXP, CT_LOG, CT_SQRT, CT_RSQRT, CT_ABS, CT_TANH, CT_SIGMOID, CT_LOGSIGMOID,
    CT_RELU, CT_SILU, CT_GELU, CT_GELU_TANH, CT_QUICK_GELU, CT_SIN, CT_COS, CT_LOGICAL_NOT,
    CT_FLOOR, CT_CEIL, CT_ROUND, CT_SIGN, CT_RECIPROCAL, CT_ISNAN, CT_ISINF, CT_ISFINITE,
    CT_LOG1P, CT_EXPM1, CT_SQUARE,
};
ct_tensor ct_unary(int op, ct_tensor t);
ct_tensor ct_clamp(ct_tensor t, ct_scalar lo, int has_lo, ct_scalar hi, int has_hi);
int ct_fill_(ct_tensor t, ct_scalar value);
int ct_zero_(ct_tensor t);
int ct_mul_scalar_(ct_tensor t, ct_scalar value);

// MARK: linear algebra
ct_tensor ct_matmul(ct_tensor a, ct_tensor b);
ct_tensor ct_bmm(ct_tensor a, ct_tensor b);
/// y = x W^T + b; `bias` may be NULL.
ct_tensor ct_linear(ct_tensor x, ct_tensor weight, ct_tensor bias);

// MARK: reductions (dims NULL/ndim 0 = all dims)
enum { CT_SUM, CT_MEAN, CT_AMAX, CT_AMIN, CT_PROD, CT_ANY, CT_ALL };
ct_tensor ct_reduce(int op, ct_tensor t, const int64_t *dims, int ndim, int keepdim);
/// Returns values; writes the indices to *indices (may be NULL to drop them).
ct_tensor ct_max_dim(ct_tensor t, int64_t dim, int keepdim, ct_tensor *indices);
ct_tensor ct_min_dim(ct_tensor t, int64_t dim, int keepdim, ct_tensor *indices);
ct_tensor ct_argmax(ct_tensor t, int64_t dim, int keepdim);
ct_tensor ct_topk(ct_tensor t, int64_t k, int64_t dim, int largest, int sorted, ct_tensor *indices);
ct_tensor ct_sort(ct_tensor t, int64_t dim, int descending, ct_tensor *indices);
ct_tensor ct_cumsum(ct_tensor t, int64_t dim);
ct_tensor ct_softmax(ct_tensor t, int64_t dim);
ct_tensor ct_log_softmax(ct_tensor t, int64_t dim);
ct_tensor ct_logsumexp(ct_tensor t, const int64_t *dims, int ndim, int keepdim);
/// p-norm over dims (all when ndim == 0).
ct_tensor ct_norm(ct_tensor t, double p, const int64_t *dims, int ndim, int keepdim);
ct_tensor ct_multinomial(ct_tensor probs, int64_t n, ct_generator g);
int ct_allclose(ct_tensor a, ct_tensor b, double rtol, double atol);

// MARK: neural-network functions
/// `padding_idx` >= 0: that row receives no gradient (torch.nn.Embedding(padding_idx=…)); -1 for none.
ct_tensor ct_embedding(ct_tensor weight, ct_tensor ids, int64_t padding_idx);
ct_tensor ct_layer_norm(ct_tensor x, const int64_t *shape, int ndim, ct_tensor weight,
                        ct_tensor bias, double eps);
ct_tensor ct_rms_norm(ct_tensor x, const int64_t *shape, int ndim, ct_tensor weight, double eps);
ct_tensor ct_conv2d(ct_tensor x, ct_tensor weight, ct_tensor bias, const int64_t *stride,
                    const int64_t *padding, const int64_t *dilation, int64_t groups);
ct_tensor ct_dropout(ct_tensor x, double p, int train);
/// q,k,v: [B, H, T, D]. `mask` may be NULL (bool: true = attend; float: added to scores).
/// `scale` <= 0 means 1/sqrt(D).
ct_tensor ct_sdpa(ct_tensor q, ct_tensor k, ct_tensor v, ct_tensor mask, double dropout,
                  int is_causal, double scale, int enable_gqa);
/// Bicubic resize of `x` [N, C, H, W] to [N, C, out_h, out_w], as F.interpolate(size=…,
/// mode="bicubic") (no scale factors given, no antialias).
ct_tensor ct_upsample_bicubic2d(ct_tensor x, int64_t out_h, int64_t out_w, int align_corners);
/// reduction: 0 none, 1 mean, 2 sum.
ct_tensor ct_cross_entropy(ct_tensor logits, ct_tensor target, int64_t ignore_index,
                           int reduction, double label_smoothing);

// MARK: autograd
int ct_requires_grad(ct_tensor t);
int ct_set_requires_grad(ct_tensor t, int flag);
/// `grad_output` may be NULL for a scalar.
int ct_backward(ct_tensor t, ct_tensor grad_output, int retain_graph, int create_graph);
/// NULL when no gradient is stored.
ct_tensor ct_grad(ct_tensor t);
int ct_set_grad(ct_tensor t, ct_tensor grad);
int ct_zero_grad(ct_tensor t);
/// Runs `fn(ctx)` each time the backward pass has accumulated a gradient into the `.grad` of leaf `t`
/// (torch's Tensor.register_post_accumulate_grad_hook; `fn` may read and drop that `.grad`). Replaces
/// an earlier such hook of `t`; `release(ctx)` runs when the hook is dropped (replaced, or `t`'s
/// autograd metadata freed). `fn` NULL removes the hook. `t` must be a leaf that requires grad.
int ct_set_post_accumulate_grad_hook(ct_tensor t, void (*fn)(void *ctx), void *ctx, void (*release)(void *ctx));
ct_tensor ct_detach(ct_tensor t);
int ct_is_grad_enabled(void);
/// Returns the previous mode.
int ct_set_grad_enabled(int enabled);
/// d(outputs)/d(inputs) for each input (torch.autograd.grad); NULL for an unused input.
int ct_autograd_grad(const ct_tensor *outputs, const ct_tensor *grad_outputs, int n_out,
                     const ct_tensor *inputs, int n_in, int retain_graph, int create_graph,
                     ct_tensor *out);

// MARK: activation checkpointing and mixed precision
#define CT_CHECKPOINT_MAX_OUTPUTS 16
/// A checkpointed segment: reads `n_in` borrowed inputs, writes up to `cap` new output references to
/// `out` and returns how many (negative on failure).
typedef int (*ct_checkpoint_fn)(void *ctx, const ct_tensor *inputs, int n_in, ct_tensor *out, int cap);
/// Runs `fn` as torch.utils.checkpoint(use_reentrant=True) does: now under no-grad keeping only the
/// inputs, and again with grad on in the backward pass. Takes ownership of `ctx`: `release(ctx)` runs
/// when the graph that needs it is freed (or at once on failure). `after_backward(ctx)` (may be NULL)
/// runs once the backward pass through the recomputed segment has finished (its parameters' `.grad`
/// complete), e.g. to reduce those gradients and free gathered parameters. Returns the output count, or -1.
int ct_checkpoint(ct_checkpoint_fn fn, void *ctx, void (*release)(void *ctx), void (*after_backward)(void *ctx),
                  const ct_tensor *inputs, int n_in, ct_tensor *out, int cap);
/// Enters an autocast region (torch.autocast) for the CPU (device < 0) or CUDA with `dtype`; writes the
/// previous setting for `ct_autocast_exit`, which also clears the weight-cast cache at the outermost exit.
int ct_autocast_enter(int device, int dtype, int *previous_enabled, int *previous_dtype);
int ct_autocast_exit(int device, int previous_enabled, int previous_dtype);
int ct_autocast_is_enabled(int device);
/// GradScaler.unscale_: every gradient *= inv_scale (float32 [1]) in place; found_inf (float32 [1])
/// becomes 1 if any element is inf or NaN.
int ct_amp_unscale_(const ct_tensor *grads, int n, ct_tensor found_inf, ct_tensor inv_scale);
/// GradScaler.update's kernel (torch._amp_update_scale_), on float32 scale and int32 growth tracker.
int ct_amp_update_scale_(ct_tensor scale, ct_tensor growth_tracker, ct_tensor found_inf, double growth_factor,
                         double backoff_factor, int64_t growth_interval);

// MARK: optimiser kernels
/// One AdamW step over n parameters with ATen's fused kernel. `steps` are float32 scalar tensors,
/// incremented here before the update (as torch.optim.AdamW does).
int ct_fused_adamw_(const ct_tensor *params, const ct_tensor *grads, const ct_tensor *exp_avgs,
                    const ct_tensor *exp_avg_sqs, const ct_tensor *steps, int n, double lr,
                    double beta1, double beta2, double weight_decay, double eps);
/// Global 2-norm of the gradients, computed as torch.nn.utils.clip_grad_norm_ does; every gradient
/// is scaled by min(1, max_norm / (norm + 1e-6)). Writes the norm before clipping to *norm.
int ct_clip_grad_norm_(const ct_tensor *grads, int n, double max_norm, double *norm);

// MARK: distributed (torch's c10d)
typedef struct ct_store_s *ct_store;
typedef struct ct_process_group_s *ct_process_group;
typedef struct ct_work_s *ct_work;

/// A TCPStore at host:port (torch's rendezvous store). `is_server`: this process listens on `port`
/// (0 = any free port; see ct_tcp_store_port) and waits up to `timeout_ms` for `world_size` clients,
/// itself included; otherwise it connects, retrying until `timeout_ms`. The timeout also bounds every
/// later get. NULL on failure (a port in use: torch's message names EADDRINUSE).
ct_store ct_tcp_store_new(const char *host, int port, int world_size, int is_server, int64_t timeout_ms);
/// The TCP store's port (-1 for a prefix store).
int ct_tcp_store_port(ct_store s);
/// Keys of `base` under `prefix` + "/" (torch's PrefixStore); keeps `base` alive.
ct_store ct_prefix_store_new(const char *prefix, ct_store base);
void ct_store_free(ct_store s);
int ct_store_set(ct_store s, const char *key, const void *value, size_t n);
/// Blocks until `key` is set (or the store's timeout); copies at most `cap` bytes to `out` and returns
/// the value's full length, -1 on failure.
int64_t ct_store_get(ct_store s, const char *key, void *out, size_t cap);
int ct_store_add(ct_store s, const char *key, int64_t delta, int64_t *result);

/// A Gloo process group over `store` (which it keeps alive). `interface`: NULL or "" for Gloo's default
/// device (this host name's address, else loopback), or a network interface name (GLOO_SOCKET_IFNAME).
/// `threads` <= 0 keeps Gloo's default (2). Every collective and the rendezvous time out after `timeout_ms`.
ct_process_group ct_pg_gloo_new(ct_store store, int rank, int size, int64_t timeout_ms, const char *interface,
                                int threads);
/// An NCCL process group made by the bridge library at `library_path` (its `svco_nccl_backend_new`),
/// which needs libtorch_cuda loaded first; `device` is this rank's CUDA device.
ct_process_group ct_pg_nccl_new(const char *library_path, ct_store store, int rank, int size, int64_t timeout_ms,
                                int device);
void ct_pg_free(ct_process_group pg);
/// "gloo" or "nccl"; valid while the group lives.
const char *ct_pg_backend_name(ct_process_group pg);

enum { CT_REDUCE_SUM, CT_REDUCE_AVG, CT_REDUCE_MAX, CT_REDUCE_MIN, CT_REDUCE_PRODUCT };
/// Collectives start asynchronously and return a work handle, or NULL when they fail to start; every
/// rank must call them in the same order. `ct_work_wait` blocks until the work is done (non-zero on
/// failure, with a message naming the collective, the rank and the cause); free the handle after.
/// In place on `t` (every rank's tensor has the same shape).
ct_work ct_pg_all_reduce(ct_process_group pg, ct_tensor t, int op);
ct_work ct_pg_broadcast(ct_process_group pg, ct_tensor t, int root);
/// `output` (contiguous, world size × numel(input)) receives every rank's `input` in rank order.
ct_work ct_pg_all_gather(ct_process_group pg, ct_tensor output, ct_tensor input);
/// `input` (contiguous, world size × numel(output)) is reduced across ranks; rank r keeps chunk r.
ct_work ct_pg_reduce_scatter(ct_process_group pg, ct_tensor output, ct_tensor input, int op);
ct_work ct_pg_barrier(ct_process_group pg);
int ct_work_wait(ct_work w);
void ct_work_free(ct_work w);

// MARK: printing
/// torch's own textual rendering of a tensor; free with ct_free_string.
char *ct_to_string(ct_tensor t);
void ct_free_string(char *s);

#ifdef __cplusplus
}
#endif
#endif
