"""Live outputs by kind: record, publish or serve RTSP, HLS, the preview page, null (``open_output``).

An output is opened in two steps: construction (at start, before any frame:
paths checked, ports bound, so a mistake fails at once) and the first
``write`` (the size and rate are known then). Each runs in its own thread
behind its own queue (``stream.live.output_worker``), so a slow or broken output
never holds the others back. ``close`` is idempotent and finalises files.

Two kinds: frame outputs take the paced pictures (``OutFrame``: the preview,
null; ``stream.live.frame_outputs``); muxing outputs (``encoded = True``:
recordings, RTSP publish and serve, HLS; ``stream.live.muxing_outputs``) take
the packets of the camera's one shared encode (``stream.live.encoded``). What
they all share is in ``stream.live.output``.
"""

from __future__ import annotations

from collections.abc import Callable

from stream.live.frame_outputs import NullOutput, PreviewOutput
from stream.live.muxing_outputs import (
    FileOutput,
    HlsOutput,
    RtspPublishOutput,
    RtspServeOutput,
)
from stream.live.output import Output, OutputContext
from stream.uri import OutputSpec


def open_output(spec: OutputSpec, ctx: OutputContext, snapshot: Callable[[], dict]) -> Output:
    """The output for a parsed URI (the one registry of output kinds); binds and checks at once."""
    if spec.kind == "file":
        return FileOutput(spec, ctx)
    if spec.kind == "rtsp-publish":
        return RtspPublishOutput(spec, ctx)
    if spec.kind == "rtsp-serve":
        return RtspServeOutput(spec, ctx)
    if spec.kind == "hls":
        return HlsOutput(spec, ctx)
    if spec.kind == "preview":
        return PreviewOutput(spec, ctx, snapshot)
    return NullOutput()
