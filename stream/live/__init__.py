"""Live operation (``nocturne live``): camera sources that reconnect, latest-wins pacing on the wall
clock, outputs (record, RTSP publish/serve, HLS, preview page), Prometheus metrics, many cameras
in one process. ``stream.live.service.LiveService`` composes them.

One idea per module:

- the process: ``service`` (every camera, metrics endpoint, shutdown), ``servers`` (RTSP and
  preview servers shared by cameras), ``metrics`` (Prometheus);
- a camera: ``camera`` (its threads: source → enhance → pacer → outputs), ``mailbox``
  (enhancer → pacer hand-over), ``pacer``, ``no_signal`` (the "NO SIGNAL" picture),
  ``output_worker`` (one output's thread and queue), ``summary`` (what it did);
- sources: ``reader`` (what a reader gives), ``sources`` (the registry of source kinds),
  ``av_reader`` (PyAV), ``scene_reader`` (``test://night``), ``gst_reader`` (v4l2/csi),
  ``patterns`` (``test://`` names), ``av_failures`` (FFmpeg errors in one line),
  ``reconnect`` (the source that comes back), ``backoff``;
- outputs: ``output`` (what an output is given), ``outputs`` (the registry of output kinds),
  ``encoded`` (the shared encode, GOP-dropping queue), ``muxing_outputs`` (recording, RTSP
  publish and serve, HLS), ``frame_outputs`` (preview, null), ``preview`` (the page's server),
  ``rtsp_server`` (GStreamer's RTSP server), ``gst_init`` (loading GStreamer, which is optional).

Errors (``SourceError``, ``SourceGaveUp``, ``GStreamerMissingError``) are in ``stream.errors``.
"""
