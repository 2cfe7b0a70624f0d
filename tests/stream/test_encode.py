"""FileSink: what a fragmented recording has on disk while it is still being written."""

from __future__ import annotations

import shutil
from fractions import Fraction

import av
import numpy as np

from engines.image import YuvImage
from stream.encode import EncoderSettings, FileSink
from stream.frame import Frame

GOP = 10


def flat_frame(index: int) -> Frame:
    """A flat grey 64x48 picture: a few hundred bytes per frame, like a still camera at night."""
    y = np.full((48, 64), 40 + index % 3, np.uint8)
    chroma = np.full((24, 32), 128, np.uint8)
    return Frame(image=YuvImage(y, chroma, chroma), pts=index, time_base=Fraction(1, 10), index=index,
                 display_size=(64, 48))


def test_a_fragmented_recording_is_on_disk_up_to_its_last_keyframe(tmp_path):
    """A crash (here: a copy taken before close) loses at most one keyframe interval, even at a tiny bitrate."""
    target = tmp_path / "live.mp4"
    sink = FileSink(target, EncoderSettings(fragmented=True, gop=GOP, tune="zerolatency"),
                    time_base=Fraction(1, 10), rate=Fraction(10))
    written = 4 * GOP + 5
    for index in range(written):
        sink.write(flat_frame(index))
    snapshot = tmp_path / "crashed.mp4"
    shutil.copy(target, snapshot)                    # what a SIGKILL would leave
    sink.close()

    assert target.stat().st_size < 32 * 1024        # small enough to sit whole in FFmpeg's write buffer
    with av.open(str(snapshot)) as crashed:
        on_disk = sum(1 for _ in crashed.decode(video=0))
    assert written - GOP <= on_disk <= written
    with av.open(str(target)) as finished:
        assert sum(1 for _ in finished.decode(video=0)) == written
