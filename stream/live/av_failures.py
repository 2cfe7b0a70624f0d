"""PyAV (FFmpeg) failures as one short, credential-free line for the user.

Shared by the PyAV reader (``stream.live.av_reader``) and the RTSP publish
output (``stream.live.muxing_outputs``): both talk to cameras and servers
through FFmpeg, whose errors can carry URLs with passwords.
"""

from __future__ import annotations

import av

from stream.errors import SourceError
from stream.uri import redact


def describe_failure(error: BaseException, timeout_s: float) -> str:
    """A short, credential-free reason for a failed open or read."""
    kinds: list[tuple[type, str]] = [
        (av.error.HTTPUnauthorizedError, "refused: wrong or missing credentials (401)"),
        (av.error.HTTPForbiddenError, "refused: forbidden (403)"),
        (av.error.HTTPNotFoundError, "not found (404): wrong path?"),
        (av.error.ConnectionRefusedError, "connection refused: nothing listens at that address"),
        (av.error.ExitError, f"no answer within {timeout_s:g} s"),
        (TimeoutError, f"no answer within {timeout_s:g} s"),
        (av.error.InvalidDataError, "not a media stream (invalid data)"),
        (av.error.EOFError, "the stream ended"),
    ]
    for kind, text in kinds:
        if isinstance(error, kind):
            return text
    if isinstance(error, av.error.OSError) and getattr(error, "errno", None) == 5:
        return "unreachable or not answering (input/output error; unknown host, network or server down?)"
    if isinstance(error, SourceError):
        return str(error)
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return redact(str(text).splitlines()[0])
