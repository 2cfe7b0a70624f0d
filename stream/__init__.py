"""nocturne stream: everything that moves frames.

Sources, sinks, codecs, colour handling, pacing, the graph runner, the CLI and
its configuration. Pixels are changed only by ``engines``.
"""

__version__ = "0.1.0"
