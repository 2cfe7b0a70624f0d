"""The ONNX opset of every network nocturne exports.

A leaf module: ``engines.export`` exports at this opset, and ``engines.runtimes``
names its cached ONNX files after it without importing torch (which the export
needs and the ONNX Runtime path does not).
"""

OPSET = 17
