import CTorch
#if canImport(Glibc)
import Glibc
#endif

/// Automatic mixed precision regions (`torch.autocast`): inside, matrix products, convolutions and
/// attention run in `dtype` (their float32 inputs cast on the fly, weight casts cached for the region),
/// while the ops torch keeps in float32 stay there. Gradients flow back to the float32 parameters.
public enum Autocast {
    /// Runs `body` with autocast to `dtype` on `device`'s kind (CPU or CUDA), restoring the previous
    /// setting after; the weight-cast cache is cleared when the outermost region ends, so updated
    /// weights are cast afresh next time.
    ///
    /// One thread at a time: torch keeps the weight-cast cache process-wide while each thread counts
    /// its own nesting, so a region on one thread reuses casts another thread made and clears them
    /// under it (two autocast trainers in one process, as the test suites run them, differed in the
    /// last bits of their gradients). Regions nest freely on one thread. Checkpointed segments
    /// re-enter autocast in the shim while backward recomputes them, outside this lock (on CUDA that
    /// runs on autograd's device thread, which would deadlock on a lock its caller holds), with the
    /// cache off for their thread so that they neither read nor clear casts a region is sharing.
    public static func run<R>(device: Device, dtype: DType, _ body: () throws -> R) rethrows -> R {
        regionLock.lock()
        defer { regionLock.unlock() }
        var previousEnabled: Int32 = 0
        var previousDType: Int32 = 0
        if ct_autocast_enter(device.code, dtype.rawValue, &previousEnabled, &previousDType) != 0 { TorchOp.fail("autocast", []) }
        defer { _ = ct_autocast_exit(device.code, previousEnabled, previousDType) }
        return try body()
    }

    private static let regionLock = RecursiveLock()

    /// Whether autocast is on for `device`'s kind on this thread.
    public static func isEnabled(device: Device) -> Bool { ct_autocast_is_enabled(device.code) != 0 }
}

extension OptimizerKernels {
    /// `GradScaler.unscale_`'s kernel: multiplies every gradient by `inverseScale` (float32 `[1]`) in
    /// place and sets `foundInf` (float32 `[1]`) to 1 when any element is inf or NaN.
    public static func unscaleGradients(_ grads: [Tensor], foundInf: Tensor, inverseScale: Tensor) {
        guard !grads.isEmpty else { return }
        let status = withHandles(grads) { ct_amp_unscale_($0, $1, foundInf.handle, inverseScale.handle) }
        TorchOp.status(status, "_amp_foreach_non_finite_check_and_unscale_", grads + [foundInf, inverseScale])
    }

    /// `GradScaler.update`'s kernel (`torch._amp_update_scale_`): after a step with `foundInf`, the
    /// scale is multiplied by `backoff` and the tracker reset; otherwise the tracker counts up and, on
    /// reaching `interval`, the scale grows by `growth` (if that stays finite) and the tracker resets.
    public static func updateScale(_ scale: Tensor, growthTracker: Tensor, foundInf: Tensor, growth: Double, backoff: Double,
                                   interval: Int) {
        let status = ct_amp_update_scale_(scale.handle, growthTracker.handle, foundInf.handle, growth, backoff, Int64(interval))
        TorchOp.status(status, "_amp_update_scale_", [scale, growthTracker, foundInf])
    }
}

/// A lock its holder may take again (pthread's recursive mutex), for nested autocast regions.
final class RecursiveLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_RECURSIVE))
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
}
