/// Checked once the models and the optimiser state are on the device, before any data pass (the
/// reference precompute, step 1): whether the gradients the first backward pass will allocate fit
/// what the device has left. A run that cannot fit stops here, with the numbers, rather than after
/// minutes of precomputing or at step 1. Activations come on top, so passing is no promise.
public enum MemoryPreflight {
    /// The problem, or nil when `gradientBytes` fit the device's `total` less the bytes `allocated`
    /// to tensors now. (Not less what other processes hold: the check refuses only what cannot fit.)
    public static func problem(gradientBytes: Int, allocated: Int, total: Int, device: String) -> String? {
        let available = total - allocated
        guard gradientBytes > available else { return nil }
        func gb(_ bytes: Int) -> String {
            let tenths = Int((Double(bytes) / 1e8).rounded())
            return "\(tenths / 10).\(tenths % 10) GB"
        }
        return "not enough memory on \(device) to train: the gradients need \(gb(gradientBytes)) (float32, this rank's share), "
            + "but after the models and the optimizer state (\(gb(allocated)) allocated of \(gb(total))) only \(gb(available)) are left, "
            + "before any activations. Nothing was trained."
    }
}
