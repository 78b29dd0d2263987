# Writes python_written.safetensors with the reference `safetensors` library and the expected
# values beside it (python_written.json), for SafetensorsTests.readsFilesWrittenByPython.
# Made with: torch==2.13.0+cpu, safetensors==0.6.2, numpy==2.3.4 (python 3.11).
import json

import torch
from safetensors.torch import save_file

tensors = {
    "f32": torch.tensor([[1.5, -2.25, 3.0]], dtype=torch.float32),
    "f16": torch.tensor([[0.5, -1.0], [65504.0, 0.0009765625]], dtype=torch.float16),
    "bf16": torch.tensor([1.0078125, -3.140625, 256.0], dtype=torch.bfloat16),
    "f64": torch.tensor([1e-300, -2.5], dtype=torch.float64),
    "i64": torch.tensor([2**62, -7], dtype=torch.int64),
    "i32": torch.tensor([[-(2**31), 5]], dtype=torch.int32),
    "u8": torch.tensor([0, 255, 17], dtype=torch.uint8),
    "bool": torch.tensor([True, False, True]),
    "scalar": torch.tensor(4.25),
}
save_file(tensors, "python_written.safetensors", metadata={"format": "pt"})
expected = {k: [float(x) for x in v.to(torch.float64).flatten().tolist()] for k, v in tensors.items()}
with open("python_written.json", "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
