"""Tiny generated media for the tests, and the probes that read outputs back.

Everything is made on the fly (PyAV where it can, the ``ffmpeg`` binary only
for what PyAV cannot easily make) so the repository holds no binaries.
Pictures are dark (mean luma around 20/255) with motion, noise and one bright
"lamp", like the footage nocturne is for.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Any, Sequence

import av
import numpy as np

FFMPEG = shutil.which("ffmpeg")
FFPROBE = shutil.which("ffprobe")
AUDIO_RATE = 48000


def dark_rgb(index: int, width: int, height: int, seed: int = 0) -> np.ndarray:
    """(height, width, 3) uint8 RGB: a dark moving gradient with a dim coloured band, noise and a bright lamp."""
    base = _dark_base(width, height)
    noise = _noise_pool(width, height, seed)
    rgb = np.roll(base, 3 * index, axis=1) + noise[index % len(noise)]
    lamp_x = (index * 4) % max(1, width - 8)
    rgb[2:8, lamp_x:lamp_x + 6, :] = 250.0
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


@functools.lru_cache(maxsize=8)
def _dark_base(width: int, height: int) -> np.ndarray:
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 12.0 + 18.0 * (0.5 + 0.5 * np.sin(xx / 9.0)) * (yy / max(1, height - 1) + 0.3)
    rgb = np.stack([base * 0.9, base, base * 1.2], axis=-1)
    band = slice(height * 3 // 4, height)              # a dim red/green band: makes the matrix matter
    rgb[band, : width // 2] = (60.0, 8.0, 6.0)
    rgb[band, width // 2:] = (6.0, 50.0, 14.0)
    rgb.flags.writeable = False
    return rgb


@functools.lru_cache(maxsize=8)
def _noise_pool(width: int, height: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return tuple(rng.normal(0.0, 3.0, (height, width, 3)).astype(np.float32) for _ in range(5))


def write_video(path: Path, *, frames: int = 24, size: tuple[int, int] = (160, 96), rate: int = 25,
                codec: str = "libx264", pix_fmt: str = "yuv420p", audio: bool = False,
                pts: Sequence[int] | None = None, time_base: Fraction | None = None,
                colour: dict[str, int] | None = None, rotation: int | None = None,
                options: dict[str, str] | None = None, container_options: dict[str, str] | None = None,
                metadata: dict[str, str] | None = None, seed: int = 0) -> Path:
    """Encode a dark clip with PyAV.

    ``pts`` (in ``time_base`` units) gives irregular timestamps for VFR clips;
    ``colour`` sets codec/frame colour tags (``color_range``, ``colorspace``,
    ``color_primaries``, ``color_trc`` as FFmpeg integers); ``rotation`` sets
    the display matrix; ``audio`` adds an AAC track as long as the video;
    ``metadata`` are container tags (``title``).
    """
    width, height = size
    time_base = time_base or Fraction(1, rate * 512)
    if pts is None:
        step = int(1 / (rate * time_base))
        pts = [i * step for i in range(frames)]
    with av.open(str(path), "w", options=container_options or {}) as container:
        container.metadata.update(metadata or {})
        video = container.add_stream(codec, rate=rate)
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        video.time_base = time_base
        video.codec_context.time_base = time_base
        x26x = codec.startswith("libx26")
        video.options = {"preset": "ultrafast", **(options or {})} if x26x else dict(options or {})
        if codec == "libx265":
            video.options = {**video.options, "x265-params": "log-level=error"}
        if colour:
            for name, value in colour.items():
                setattr(video.codec_context, name, value)
        if rotation is not None:
            video.set_display_rotation(rotation)
        sound = container.add_stream("aac", rate=AUDIO_RATE, layout="mono") if audio else None
        for i, stamp in enumerate(pts):
            frame = av.VideoFrame.from_ndarray(dark_rgb(i, width, height, seed), format="rgb24")
            frame = frame.reformat(format=pix_fmt, dst_colorspace=_swscale_space(colour),
                                   dst_color_range=(colour or {}).get("color_range", 1) or 1)
            if colour:
                for name, value in colour.items():
                    setattr(frame, name, value)
            frame.pts, frame.time_base = stamp, time_base
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if sound is not None:
            end_s = float((pts[-1] + int(1 / (rate * time_base))) * time_base)
            _write_tone(container, sound, end_s)
    return path


def _swscale_space(colour: dict[str, int] | None) -> int:
    """swscale colorspace for the RGB → Y'CbCr conversion (BT.709 = 1, BT.601 = 5)."""
    space = (colour or {}).get("colorspace", 1)
    return 1 if space == 1 else 5


def _write_tone(container: Any, stream: Any, seconds: float) -> None:
    """A 440 Hz tone of ``seconds`` in 1024-sample AAC frames."""
    total = int(round(seconds * AUDIO_RATE))
    t = np.arange(total, dtype=np.float32) / AUDIO_RATE
    samples = (0.2 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    for start in range(0, total, 1024):
        chunk = samples[start:start + 1024]
        frame = av.AudioFrame.from_ndarray(chunk[np.newaxis, :], format="fltp", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = AUDIO_RATE, start, Fraction(1, AUDIO_RATE)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def write_audio_only(path: Path, seconds: float = 0.5) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=AUDIO_RATE, layout="mono")
        _write_tone(container, stream, seconds)
    return path


def write_image(path: Path, width: int = 128, height: int = 72, index: int = 0) -> Path:
    import cv2

    rgb = dark_rgb(index, width, height, seed=7)
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if path.suffix.lower() in (".jpg", ".jpeg") else []
    if not cv2.imwrite(str(path), np.ascontiguousarray(rgb[:, :, ::-1]), params):
        raise RuntimeError(f"could not write test image {path}")
    return path


def ffmpeg(*args: str) -> None:
    """Run the ffmpeg binary quietly; raise with its stderr on failure."""
    assert FFMPEG is not None
    done = subprocess.run([FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg {' '.join(args)} failed: {done.stderr.strip()}")


# ---------------------------------------------------------------------------------------------
# Reading outputs back


def probe(path: Path) -> list[dict[str, Any]]:
    """What PyAV reads from each stream's header, one dict per stream in file order.

    Keys: ``type``, ``codec``, and for video ``pix_fmt``, ``width``, ``height``,
    ``frames`` (0 when the container does not say), ``average_rate``, ``codec_tag``,
    ``tags`` = (color_range, colorspace, color_primaries, color_trc) as FFmpeg's
    integers; for audio ``sample_rate`` and ``channels``.
    """
    with av.open(str(path)) as container:
        streams = []
        for stream in container.streams:
            ctx = stream.codec_context
            info: dict[str, Any] = {"type": stream.type, "codec": ctx.name if ctx else None}
            if stream.type == "video":
                info.update(pix_fmt=ctx.pix_fmt, width=ctx.width, height=ctx.height, frames=int(stream.frames or 0),
                            average_rate=stream.average_rate, codec_tag=stream.codec_tag,
                            tags=(int(ctx.color_range), int(ctx.colorspace), int(ctx.color_primaries),
                                  int(ctx.color_trc)))
            elif stream.type == "audio":
                info.update(sample_rate=ctx.sample_rate, channels=ctx.channels)
            streams.append(info)
        return streams


def ffprobe(path: Path) -> dict[str, Any]:
    """ffprobe's JSON of streams and format (``streams`` list, ``format`` dict); for needs_ffmpeg tests."""
    assert FFPROBE is not None, "mark the test needs_ffmpeg"
    done = subprocess.run([FFPROBE, "-v", "error", "-print_format", "json", "-show_streams", "-show_format",
                           str(path)], capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def video_times(path: Path) -> list[float]:
    """Presentation times (seconds) of every decoded video frame, in display order.

    Decoding every frame is also the "it plays" check: a damaged file raises.
    """
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sorted(float(frame.time) for frame in container.decode(stream))


def decoded_frames(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as container:
        return list(container.decode(container.streams.video[0]))


def count_decodable(path: Path) -> int:
    """Frames a decoder gets out of ``path`` (errors after some frames end the count).

    Decoded as ``ffmpeg`` and nocturne decode, with frame threads: how many frames of a damaged end
    come out depends on that (PyAV 17's FFmpeg drops a corrupt last frame with frame threads; slice
    threads conceal it).
    """
    count = 0
    try:
        with av.open(str(path)) as container:
            container.streams.video[0].thread_type = "AUTO"
            for _ in container.decode(container.streams.video[0]):
                count += 1
    except av.error.FFmpegError:
        pass
    return count


def stream_packets(path: Path, kind: str) -> list[tuple[float, float]]:
    """(time, duration) in seconds of every packet of the first ``kind`` stream."""
    with av.open(str(path)) as container:
        stream = getattr(container.streams, kind)[0]
        out = []
        for packet in container.demux(stream):
            if packet.size and packet.pts is not None:
                out.append((float(packet.pts * packet.time_base), float((packet.duration or 0) * packet.time_base)))
        return out


def mean_luma(frame: av.VideoFrame) -> float:
    """Mean of the Y plane in [0, 1] (either bit depth)."""
    array = frame.to_ndarray(format="gray16le" if frame.format.name.endswith("10le") else "gray")
    return float(array.mean()) / (65535.0 if array.dtype == np.uint16 else 255.0)
