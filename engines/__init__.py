"""nocturne engines: everything that changes pixels.

Models, shipped weights, runtimes (torch, ONNX Runtime) and the per-stream
enhancers with their temporal state. Nothing here knows about files, sockets or
threads; ``stream`` imports ``engines``, never the reverse.
"""
