"""ONNX export and TensorRT engines of our models, parity-checked against torch (layer 2)."""
