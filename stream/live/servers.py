"""The servers of a live process (RTSP, preview page): one per (host, port), shared by every camera on it."""

from __future__ import annotations

from dataclasses import dataclass, field

from stream.errors import OutputError
from stream.live.preview import PreviewServer
from stream.live.rtsp_server import RtspServer


@dataclass
class SharedServers:
    """RTSP and preview servers of the process, one per (host, port), shared by cameras.

    A server is made by the first camera that asks for it; cameras sharing one
    must agree on its credentials (RTSP user and password, preview token).
    ``close`` stops them all (the service does it once every camera ended).
    """

    rtsp: dict[tuple[str, int], RtspServer] = field(default_factory=dict)
    previews: dict[tuple[str, int], PreviewServer] = field(default_factory=dict)

    def rtsp_server(self, host: str, port: int, credentials: tuple[str, str] | None = None) -> RtspServer:
        key = (host, port)
        if key not in self.rtsp:
            self.rtsp[key] = RtspServer(host, port, credentials=credentials)
        elif self.rtsp[key].credentials != credentials:
            raise OutputError(f"RTSP server on {host}:{port}: cameras sharing it must use the same user and password")
        return self.rtsp[key]

    def preview_server(self, host: str, port: int, token: str | None) -> PreviewServer:
        key = (host, port)
        if key not in self.previews:
            self.previews[key] = PreviewServer(host, port, token)
        elif self.previews[key].token != token:
            raise OutputError(f"preview on {host}:{port}: cameras sharing it must use the same token")
        return self.previews[key]

    def close(self) -> None:
        for server in [*self.rtsp.values(), *self.previews.values()]:
            server.close()
        self.rtsp.clear()
        self.previews.clear()
