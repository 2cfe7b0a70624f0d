"""GStreamer (through PyGObject) for the live pieces that need it: load and initialise it, or say what to install.

Needed only when a ``v4l2://``/``csi://`` source (``stream.live.gst_reader``) or
an ``rtsp://@…`` output (``stream.live.rtsp_server``) is used: GStreamer comes
from the system's packages (Debian: gstreamer1.0-plugins-{good,bad,ugly},
gstreamer1.0-rtsp, gir1.2-gst-rtsp-server-1.0; PyGObject < 3.51 builds in a
venv against libgirepository1.0-dev), never from PyPI, so a machine without it
must still run everything else. That is why ``gi`` is imported inside
``require_gst`` and nowhere at module level; loading it only when a reader or
server starts also keeps it after the models are opened (``LiveService``:
exporting a model to ONNX after GStreamer's libraries were loaded aborted the
process).
"""

from __future__ import annotations

from typing import Any

from stream.errors import GStreamerMissingError

APT_PACKAGES = ("gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly "
                "gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 libgirepository1.0-dev")


def require_gst(rtsp_server: bool = False) -> Any:
    """The ``gi.repository`` module with Gst initialised (and GstRtspServer loadable if asked).

    Raises ``GStreamerMissingError`` (exit code 2) naming the packages to install.
    """
    try:
        # Lazy on purpose: gi is an optional system dependency (see the module's docstring).
        import gi

        gi.require_version("Gst", "1.0")
        gi.require_version("GstVideo", "1.0")
        if rtsp_server:
            gi.require_version("GstRtspServer", "1.0")
            from gi.repository import GstRtspServer  # noqa: F401 — loads the typelib into gi.repository
        from gi import repository
        from gi.repository import GLib, Gst, GstVideo  # noqa: F401
    except (ImportError, ValueError) as error:
        raise GStreamerMissingError(f"this needs GStreamer with PyGObject ({error}); on Debian/Ubuntu: "
                                    f"apt-get install {APT_PACKAGES}, then pip install 'PyGObject<3.51'") from None
    Gst.init(None)
    return repository
