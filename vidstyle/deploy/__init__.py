"""Deployable artefacts: a style model exported (ONNX, int8 ONNX, TensorRT) and checked against torch.

It sits above ``export`` and ``stylize``: the export is checked by running the written file
through the same backends the pipeline uses, which ``export`` itself may not import.
"""
