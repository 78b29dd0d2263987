// Views, indexing, joining and splitting.
#include "internal.hpp"

#include <ATen/ops/cat.h>
#include <ATen/ops/stack.h>
#include <ATen/ops/where.h>

namespace {
int write_tensors(const std::vector<at::Tensor> &parts, ct_tensor *out, int cap) {
    for (int i = 0; i < cap && i < static_cast<int>(parts.size()); ++i) out[i] = ctorch::wrap(parts[static_cast<size_t>(i)]);
    return static_cast<int>(parts.size());
}
}  // namespace

extern "C" {

ct_tensor ct_view(ct_tensor t, const int64_t *shape, int ndim) { CT_TENSOR(t->t.view(ctorch::ints(shape, ndim))) }
ct_tensor ct_reshape(ct_tensor t, const int64_t *shape, int ndim) { CT_TENSOR(t->t.reshape(ctorch::ints(shape, ndim))) }
ct_tensor ct_permute(ct_tensor t, const int64_t *dims, int ndim) { CT_TENSOR(t->t.permute(ctorch::ints(dims, ndim))) }
ct_tensor ct_transpose(ct_tensor t, int64_t d0, int64_t d1) { CT_TENSOR(t->t.transpose(d0, d1)) }
ct_tensor ct_narrow(ct_tensor t, int64_t dim, int64_t start, int64_t length) { CT_TENSOR(t->t.narrow(dim, start, length)) }
ct_tensor ct_slice(ct_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step) {
    CT_TENSOR(t->t.slice(dim, start, end, step))
}
ct_tensor ct_select(ct_tensor t, int64_t dim, int64_t index) { CT_TENSOR(t->t.select(dim, index)) }
ct_tensor ct_index_select(ct_tensor t, int64_t dim, ct_tensor index) { CT_TENSOR(t->t.index_select(dim, index->t)) }
ct_tensor ct_gather(ct_tensor t, int64_t dim, ct_tensor index) { CT_TENSOR(t->t.gather(dim, index->t)) }
ct_tensor ct_scatter(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor src) {
    CT_TENSOR(t->t.scatter(dim, index->t, src->t))
}
ct_tensor ct_index_put(ct_tensor t, ct_tensor mask_or_index, ct_tensor values, int accumulate) {
    CT_TENSOR(t->t.index_put(c10::List<std::optional<at::Tensor>>({mask_or_index->t}), values->t, accumulate != 0))
}
ct_tensor ct_masked_select(ct_tensor t, ct_tensor mask) { CT_TENSOR(t->t.masked_select(mask->t)) }
ct_tensor ct_masked_fill(ct_tensor t, ct_tensor mask, ct_scalar value) {
    CT_TENSOR(t->t.masked_fill(mask->t, ctorch::scalar(value)))
}
ct_tensor ct_where(ct_tensor cond, ct_tensor a, ct_tensor b) { CT_TENSOR(at::where(cond->t, a->t, b->t)) }
ct_tensor ct_nonzero(ct_tensor t) { CT_TENSOR(t->t.nonzero()) }
ct_tensor ct_cat(const ct_tensor *ts, int n, int64_t dim) { CT_TENSOR(at::cat(ctorch::tensors(ts, n), dim)) }
ct_tensor ct_stack(const ct_tensor *ts, int n, int64_t dim) { CT_TENSOR(at::stack(ctorch::tensors(ts, n), dim)) }

int ct_split_with_sizes(ct_tensor t, const int64_t *sizes, int n, int64_t dim, ct_tensor *out, int cap) {
    try { return write_tensors(t->t.split_with_sizes(ctorch::ints(sizes, n), dim), out, cap); } CT_CATCH_ALL
    return -1;
}
int ct_chunk(ct_tensor t, int64_t chunks, int64_t dim, ct_tensor *out, int cap) {
    try { return write_tensors(t->t.chunk(chunks, dim), out, cap); } CT_CATCH_ALL
    return -1;
}

ct_tensor ct_expand(ct_tensor t, const int64_t *shape, int ndim) { CT_TENSOR(t->t.expand(ctorch::ints(shape, ndim))) }
ct_tensor ct_repeat(ct_tensor t, const int64_t *repeats, int ndim) { CT_TENSOR(t->t.repeat(ctorch::ints(repeats, ndim))) }
ct_tensor ct_repeat_interleave(ct_tensor t, int64_t repeats, int64_t dim) { CT_TENSOR(t->t.repeat_interleave(repeats, dim)) }
ct_tensor ct_flatten(ct_tensor t, int64_t start, int64_t end) { CT_TENSOR(t->t.flatten(start, end)) }
ct_tensor ct_unsqueeze(ct_tensor t, int64_t dim) { CT_TENSOR(t->t.unsqueeze(dim)) }
ct_tensor ct_squeeze(ct_tensor t, int64_t dim) { CT_TENSOR(t->t.squeeze(dim)) }
ct_tensor ct_squeeze_all(ct_tensor t) { CT_TENSOR(t->t.squeeze()) }
ct_tensor ct_flip(ct_tensor t, const int64_t *dims, int ndim) { CT_TENSOR(t->t.flip(ctorch::ints(dims, ndim))) }
ct_tensor ct_tril(ct_tensor t, int64_t diagonal) { CT_TENSOR(t->t.tril(diagonal)) }
ct_tensor ct_triu(ct_tensor t, int64_t diagonal) { CT_TENSOR(t->t.triu(diagonal)) }

}  // extern "C"
