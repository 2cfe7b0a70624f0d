"""Helpers of the live tests: the stand-in RTSP camera in its own process, free loopback ports."""

from tools.rtsp_camera import CameraProcess as RtspCamera, free_port  # noqa: F401 — shared with the benches
