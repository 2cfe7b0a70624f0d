"""Outputs that take the paced pictures themselves (``OutFrame``): the preview page, and null."""

from __future__ import annotations

from collections.abc import Callable

from stream.live.output import OutFrame, OutputContext
from stream.uri import OutputSpec


class PreviewOutput:
    """Feed this camera's before/after pictures to the preview page."""

    def __init__(self, spec: OutputSpec, ctx: OutputContext, snapshot: Callable[[], dict]) -> None:
        token = spec.options.get("token") or None
        self.server = ctx.servers.preview_server(spec.host, spec.port, token)
        self.feed = self.server.add_camera(ctx.camera, snapshot)
        self.name = f"preview http://{spec.host}:{spec.port}/"

    def write(self, item: OutFrame) -> None:
        self.feed.update(item.before, item.frame.image)

    def close(self) -> None:
        self.feed.update(None, None)


class NullOutput:
    """Discards everything (benchmarks)."""

    name = "null://"

    def write(self, item: OutFrame) -> None:
        pass

    def close(self) -> None:
        pass
