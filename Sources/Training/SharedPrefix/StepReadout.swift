import Torch

/// The optimiser step's single read of the device: every micro-batch loss of the step and, at logging
/// steps, the metric window, concatenated into one tensor and copied to the host at once. (Inside the
/// step nothing is read back, so a GPU never waits on the host between micro-batches.)
enum StepReadout {
    struct Values {
        var losses: [Double]
        var metrics: [[String: Double]]
    }

    static func read(losses: [Tensor], metrics: [[String: Tensor]]) -> Values {
        let keys = metrics.map { $0.keys.sorted() }
        var parts = losses.map { $0.reshape(1).to(.float64) }
        for (row, names) in zip(metrics, keys) { parts += names.compactMap { row[$0]?.reshape(1).to(.float64) } }
        guard let device = parts.first?.device else { return Values(losses: [], metrics: metrics.map { _ in [:] }) }
        let values = Tensor.cat(parts.map { $0.to(device: device) }).toArray(Double.self)
        var i = losses.count
        var rows: [[String: Double]] = []
        for names in keys {
            var row: [String: Double] = [:]
            for name in names {
                row[name] = values[i]
                i += 1
            }
            rows.append(row)
        }
        return Values(losses: Array(values[0..<losses.count]), metrics: rows)
    }
}
