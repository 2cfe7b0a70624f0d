"""Encoding and muxing: the file sink of ``nocturne enhance`` and the shared encode of live cameras.

One idea per module; the names importers use are re-exported here
(``from stream.encode import ...``); ``container`` is used only by the sinks:

- ``settings``: ``EncoderSettings``, ``ENCODERS`` (codec name → FFmpeg
  encoder), ``FRAGMENTED_OPTIONS`` (MP4/MOV fragmenting), ``check_output_path``;
- ``container``: ``open_container``, ``start_container`` (PyAV failures as
  one-line ``OutputError``), ``add_video_stream`` (the x264/x265 stream);
- ``durations``: ``FrameDurations``, the packet durations x264/x265 leave out;
- ``file_sink``: ``FileSink``, frames encoded and side streams copied into one file;
- ``packets``: ``EncodedPacket``, ``PacketEncoder``, ``PacketSink``: one encode,
  several muxers (recording, RTSP, HLS).

Imports run one way: ``settings`` ← ``container`` ← ``file_sink``/``packets``,
``durations`` beside them; the modules import each other by their full names,
never through this ``__init__``, so there is no cycle.
"""

from stream.encode.durations import FrameDurations
from stream.encode.file_sink import FileSink
from stream.encode.packets import EncodedPacket, PacketEncoder, PacketSink
from stream.encode.settings import ENCODERS, FRAGMENTED_OPTIONS, EncoderSettings, check_output_path

__all__ = ["ENCODERS", "FRAGMENTED_OPTIONS", "EncodedPacket", "EncoderSettings", "FileSink", "FrameDurations",
           "PacketEncoder", "PacketSink", "check_output_path"]
