"""nocturne engines: everything that changes pixels.

Models, shipped weights, runtimes (torch, ONNX Runtime) and the per-stream
enhancers with their temporal state; ``build`` composes an enhancer from a spec.
Nothing here knows about sockets or threads, and only three modules touch files:
``registry`` (the shipped weights), ``export`` (writes an ONNX file where told)
and ``onnx_cache`` (which ONNX file, where, exported when missing).
``stream`` imports ``engines``, never the reverse; errors are in ``errors``.
"""
