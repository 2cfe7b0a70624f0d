"""Fixtures of the live tests."""

from __future__ import annotations

import pytest

from live_media import RtspCamera, free_port


@pytest.fixture(scope="session", autouse=True)
def _models_exported_first(_private_model_cache):
    """Export the default model before any test loads GStreamer into this process.

    Exporting to ONNX after GStreamer's libraries were loaded aborted the test process (the
    product opens every model before touching GStreamer, see ``LiveService``); the in-process
    GStreamer tests would otherwise depend on running after a test that exported.
    """
    from stream.config import OfflineConfig
    from stream.pipeline import make_enhancer

    make_enhancer(OfflineConfig())


@pytest.fixture
def rtsp_camera():
    """A factory of stand-in cameras; every one started is killed at the end of the test."""
    made: list[RtspCamera] = []

    def make(*args: str) -> RtspCamera:
        camera = RtspCamera(free_port(), *args)
        made.append(camera)
        return camera

    yield make
    for camera in made:
        camera.kill()
