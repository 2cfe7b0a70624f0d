"""``nocturne demo``: a generated night scene, enhanced, with a before/after picture.

The clip is synthesised (nothing to download, nothing shipped): a street at
dusk — houses with lit windows, a street lamp, a person walking, textured
ground — rendered at normal exposure, then made dark the way a camera would
see it: linear light scaled down ~12×, the lamp keeping its brightness, sensor
noise added. The enhanced clip and ``before_after.png`` land in the output folder.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from rich.console import Console

from stream.config import OfflineConfig
from stream.errors import OutputError
from stream.pipeline import VideoJob
from stream.progress import FrameProgress

WIDTH, HEIGHT, FPS = 640, 360, 25


def _background(rng: np.random.Generator) -> np.ndarray:
    """Static part of the scene, linear RGB float32 (H, W, 3) in [0, 1]."""
    yy = np.linspace(0, 1, HEIGHT, dtype=np.float32)[:, None, None]
    sky = (1 - yy) * np.array([0.10, 0.16, 0.35], np.float32) + yy * np.array([0.35, 0.30, 0.30], np.float32)
    scene = np.broadcast_to(sky, (HEIGHT, WIDTH, 3)).copy()
    ground = cv2.GaussianBlur(rng.random((HEIGHT, WIDTH)).astype(np.float32), (0, 0), 1.2)
    scene[int(HEIGHT * 0.72):] = (0.18 + 0.22 * ground[int(HEIGHT * 0.72):, :, None]) * np.array([0.9, 0.85, 0.8])
    x = 0
    while x < WIDTH:
        w, h = min(int(rng.integers(70, 150)), WIDTH - x), int(rng.integers(110, 200))
        top, colour = int(HEIGHT * 0.72) - h, rng.uniform(0.25, 0.6, 3).astype(np.float32)
        brick = 0.85 + 0.3 * cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), 0.8)[..., None]
        scene[top:top + h, x:x + w] = colour * brick
        for wy in range(top + 15, top + h - 30, 36):
            for wx in range(x + 10, x + w - 24, 30):
                lit = rng.random() < 0.4
                scene[wy:wy + 20, wx:wx + 14] = (0.95, 0.8, 0.45) if lit else (0.08, 0.1, 0.14)
        x += w + int(rng.integers(4, 20))
    return scene


def _lamp(cx: int, cy: int) -> np.ndarray:
    """Linear radiance of a street lamp (H, W, 3); far above 1 at the core (it clips)."""
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    r2 = (yy - cy) ** 2 + (xx - cx) ** 2
    glow = 25.0 * np.exp(-r2 / (2 * 4.0**2)) + 0.25 * np.exp(-r2 / (2 * 30.0**2))
    return glow[..., None] * np.array([1.0, 0.85, 0.6], np.float32)


def _person(frame: np.ndarray, t: float) -> None:
    """Draw a walking person (jacket, trousers, face) moving left to right."""
    x = int(-40 + (WIDTH + 80) * (t % 4.0) / 4.0)
    base = int(HEIGHT * 0.9)
    step = int(6 * np.sin(t * 8))
    cv2.rectangle(frame, (x - 6 + step, base - 45), (x - 1 + step, base), (0.12, 0.12, 0.3), -1)
    cv2.rectangle(frame, (x + 1 - step, base - 45), (x + 6 - step, base), (0.12, 0.12, 0.3), -1)
    cv2.rectangle(frame, (x - 10, base - 95), (x + 10, base - 42), (0.7, 0.15, 0.1), -1)
    cv2.circle(frame, (x, base - 105), 10, (0.75, 0.55, 0.45), -1)


class DarkStreet:
    """The demo's night scene (a street, a lamp that clips, a person walking), frame by frame.

    ``rgb(i)``: frame ``i`` at ``FPS`` as (HEIGHT, WIDTH, 3) uint8 sR'G'B', with
    sensor-like noise drawn afresh each call.
    """

    def __init__(self, seed: int = 7) -> None:
        self.rng = np.random.default_rng(seed)
        background = _background(self.rng)
        self.lamp = _lamp(int(WIDTH * 0.22), int(HEIGHT * 0.25))
        self.lamp_pole = background.copy()
        cv2.line(self.lamp_pole, (int(WIDTH * 0.22), int(HEIGHT * 0.25)), (int(WIDTH * 0.22), int(HEIGHT * 0.9)),
                 (0.2, 0.2, 0.2), 3)

    def rgb(self, i: int) -> np.ndarray:
        scene = self.lamp_pole.copy()
        _person(scene, i / FPS)
        linear = scene ** 2.2 / 20.0 + self.lamp                                # dark ambient, lamp as bright as ever
        linear += self.rng.normal(0, 1, linear.shape).astype(np.float32) * np.sqrt(0.0004 * linear + 2e-6)
        srgb = np.clip(linear, 0, 1) ** (1 / 2.2)
        return np.ascontiguousarray((srgb * 255 + 0.5).astype(np.uint8))


def render_dark_clip(path: Path, seconds: float, seed: int = 7) -> None:
    """Write the dark test clip (H.264, 8-bit 4:2:0, BT.709 limited range)."""
    street = DarkStreet(seed)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.codec_context.options = {"crf": "18", "preset": "veryfast"}
        stream.codec_context.color_range, stream.codec_context.colorspace = 1, 1
        stream.codec_context.color_primaries, stream.codec_context.color_trc = 1, 1
        for i in range(int(seconds * FPS)):
            frame = av.VideoFrame.from_ndarray(street.rgb(i), format="rgb24").reformat(
                format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            frame.color_range, frame.colorspace = 1, 1
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def middle_frame_rgb(path: Path) -> np.ndarray:
    """The middle frame of a clip as (H, W, 3) uint8 RGB."""
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return frames[len(frames) // 2]


def before_after(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Side by side with labels, RGB uint8 (H, 2W + 8, 3)."""
    gap = np.full((before.shape[0], 8, 3), 255, np.uint8)
    sheet = np.concatenate([before, gap, after], axis=1)
    for text, x in (("before", 10), ("after (nocturne fast)", before.shape[1] + 18)):
        cv2.putText(sheet, text, (x, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 0), 4, cv2.LINE_AA)
        cv2.putText(sheet, text, (x, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2, cv2.LINE_AA)
    return sheet


def run_demo(output_dir: Path, seconds: float, console: Console) -> Path:
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot create {output_dir}: {error.strerror}") from error
    dark, enhanced = output_dir / "dark.mp4", output_dir / "enhanced.mp4"
    console.print(f"rendering a {seconds:.0f} s dark street scene → {dark}")
    render_dark_clip(dark, seconds)
    job = VideoJob(dark, enhanced, OfflineConfig())
    console.print(f"enhancing with the fast model on {job.choice.describe()}")
    with FrameProgress("enhance", job.expected_frames(), console) as bar:
        summary = job.run(on_frame=bar.advance)
    sheet = output_dir / "before_after.png"
    cv2.imwrite(str(sheet), before_after(middle_frame_rgb(dark), middle_frame_rgb(enhanced))[:, :, ::-1])
    console.print(f"[green]done[/green]: {summary.frames_out} frames at {summary.fps:.0f} fps → {enhanced}\n"
                  f"before/after: {sheet}")
    return sheet
