import Torch

/// The activation functions named by `hidden_act` / `projector_hidden_act` in HF configs.
public enum Activation: String, Codable, ConfigChoice {
    case quickGelu = "quick_gelu"
    case gelu
    case geluTanh = "gelu_pytorch_tanh"
    case geluNew = "gelu_new"
    case silu

    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .quickGelu: x.quickGelu()
        case .gelu: x.gelu()
        case .geluTanh, .geluNew: x.geluTanh()
        case .silu: x.silu()
        }
    }
}
