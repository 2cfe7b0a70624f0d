"""Live operation (``nocturne live``): camera sources that reconnect, latest-wins pacing on the wall
clock, outputs (record, RTSP publish/serve, HLS, preview page), Prometheus metrics, many cameras
in one process. ``stream.live.service.LiveService`` composes them."""
