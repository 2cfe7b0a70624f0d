"""Fixtures of the live tests."""

from __future__ import annotations

import pytest

from live_media import RtspCamera, free_port


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
