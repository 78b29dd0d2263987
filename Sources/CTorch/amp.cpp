// Mixed precision: autocast regions and the dynamic loss scaler's kernels (torch.amp).
#include "internal.hpp"

#include <ATen/autocast_mode.h>
#include <ATen/ops/_amp_foreach_non_finite_check_and_unscale.h>
#include <ATen/ops/_amp_update_scale.h>
#include <c10/core/GradMode.h>

#include <map>
#include <utility>

extern "C" {

int ct_autocast_enter(int device, int dtype, int *previous_enabled, int *previous_dtype) {
    try {
        at::DeviceType type = device < 0 ? at::kCPU : at::kCUDA;
        *previous_enabled = at::autocast::is_autocast_enabled(type) ? 1 : 0;
        *previous_dtype = static_cast<int>(at::autocast::get_autocast_dtype(type));
        at::autocast::increment_nesting();
        at::autocast::set_autocast_dtype(type, ctorch::scalar_type(dtype));
        at::autocast::set_autocast_enabled(type, true);
        return 0;
    } CT_CATCH_ALL
    return 1;
}

int ct_autocast_exit(int device, int previous_enabled, int previous_dtype) {
    try {
        at::DeviceType type = device < 0 ? at::kCPU : at::kCUDA;
        if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
        at::autocast::set_autocast_enabled(type, previous_enabled != 0);
        at::autocast::set_autocast_dtype(type, static_cast<at::ScalarType>(previous_dtype));
        return 0;
    } CT_CATCH_ALL
    return 1;
}

int ct_autocast_is_enabled(int device) {
    return at::autocast::is_autocast_enabled(device < 0 ? at::kCPU : at::kCUDA) ? 1 : 0;
}

int ct_amp_unscale_(const ct_tensor *grads, int n, ct_tensor found_inf, ct_tensor inv_scale) {
    try {
        c10::AutoGradMode no_grad(false);
        // The kernel wants one device and dtype per call, as GradScaler.unscale_ groups them.
        std::map<std::pair<std::string, int>, std::vector<at::Tensor>> groups;
        for (int i = 0; i < n; ++i) {
            const at::Tensor &g = grads[i]->t;
            groups[{g.device().str(), static_cast<int>(g.scalar_type())}].push_back(g);
        }
        for (auto &[key, list] : groups) {
            at::Tensor inf = found_inf->t.to(list[0].device());
            at::_amp_foreach_non_finite_check_and_unscale_(list, inf, inv_scale->t.to(list[0].device()));
            if (!inf.is_same(found_inf->t)) found_inf->t.add_(inf.to(found_inf->t.device())).clamp_max_(1);
        }
        return 0;
    } CT_CATCH_ALL
    return 1;
}

int ct_amp_update_scale_(ct_tensor scale, ct_tensor growth_tracker, ct_tensor found_inf, double growth_factor,
                         double backoff_factor, int64_t growth_interval) {
    try {
        c10::AutoGradMode no_grad(false);
        at::_amp_update_scale_(scale->t, growth_tracker->t, found_inf->t, growth_factor, backoff_factor, growth_interval);
        return 0;
    } CT_CATCH_ALL
    return 1;
}

}  // extern "C"
