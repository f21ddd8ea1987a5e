"""The Stylizer protocol, its torch/ONNX Runtime/TensorRT backends, device and precision (layer 2)."""
