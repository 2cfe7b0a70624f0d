"""The video containers nocturne writes, by file suffix: FFmpeg muxer names.

A leaf module: the file sink (``stream.encode``) and URI parsing (``stream.uri``,
which refuses a recording to a non-video file) both read it.
"""

CONTAINER_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
