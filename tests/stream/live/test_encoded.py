"""The shared encode: one x264 run per camera, whole GOPs dropped for a muxer that falls behind."""

from __future__ import annotations

import threading
from fractions import Fraction

import numpy as np

from engines.image import YuvImage
from stream.config import EncodeSection, LiveSection
from stream.encode import EncodedPacket
from stream.frame import Frame
from stream.graph import END
from stream.live.encoded import GopQueue, LivePacket, SharedEncode
from stream.live.output import OutFrame

TIME_BASE = Fraction(1, 10)


def packet(pts: int, keyframe: bool) -> LivePacket:
    return LivePacket(EncodedPacket(b"x", pts, pts, TIME_BASE, keyframe), template=None, latency_from=None)


def drain(queue: GopQueue) -> list:
    stopped = threading.Event()
    stopped.set()
    items = []
    while (item := queue.get(stopped)) is not END:
        items.append(item.packet.pts)
    return items


def test_gop_queue_passes_everything_while_its_reader_keeps_up():
    queue = GopQueue(max_span_s=1.0)
    for pts in range(8):
        queue.put(packet(pts, keyframe=pts % 4 == 0))
    assert drain(queue) == list(range(8)) and queue.dropped == 0


def test_gop_queue_drops_whole_gops_and_resumes_at_a_keyframe():
    drops = []
    queue = GopQueue(max_span_s=1.0, on_drop=lambda: drops.append(1))   # 1 s = 10 packets at 1/10
    for pts in range(25):                                               # nobody reads: it overflows
        queue.put(packet(pts, keyframe=pts % 4 == 0))
    kept = drain(queue)
    # Packets 0..10 spanned more than 1 s when 11 came: all dropped; 11 is no keyframe, so 11 too,
    # until 12 (a keyframe) starts again; 12..22 overflow at 23 the same way, and 24 resumes.
    assert kept == [24]
    assert queue.dropped == len(drops) == 24


def test_gop_queue_never_drops_the_end_marker():
    queue = GopQueue(max_span_s=0.1)
    for pts in range(5):
        queue.put(packet(pts, keyframe=True))
    queue.put(END)
    queue.put(packet(10, keyframe=True))         # overflows: packet 4 goes, the end marker stays
    stopped = threading.Event()
    stopped.set()                                # get() returns END at once when empty: no hang
    assert queue.get(stopped) is END
    assert queue.get(stopped).packet.pts == 10
    assert queue.dropped == 2 + 2 + 1            # 0-1 at 2, 2-3 at 4, 4 at 10


class Viewers:
    """A muxing output that is only sometimes listened to, like a served RTSP mount."""

    def __init__(self) -> None:
        self.idle = True
        self.keyframe_wanted = False

    def wants_keyframe(self) -> bool:
        wanted, self.keyframe_wanted = self.keyframe_wanted, False
        return wanted


class Worker:
    """Stands in for the camera's output worker: keeps what it is handed."""

    def __init__(self, output=None) -> None:
        self.output = output
        self.failed = False
        self.items: list[LivePacket] = []
        self.finished = False
        self.thread = threading.Thread(target=lambda: None)
        self.thread.start()

    def put(self, item: LivePacket) -> None:
        self.items.append(item)

    def finish(self) -> None:
        self.finished = True


def out_frame(index: int, fresh: bool = True) -> OutFrame:
    y = np.full((32, 48), 40 + 3 * index, np.uint8)
    chroma = np.full((16, 24), 128, np.uint8)
    image = YuvImage(y, chroma, chroma)
    frame = Frame(image=image, pts=index, time_base=TIME_BASE, index=index, display_size=(48, 32),
                  arrival_s=100.0 + index)
    return OutFrame(frame, image, fresh)


def test_shared_encode_hands_the_same_packets_to_every_muxer():
    workers = [Worker(), Worker()]
    encode = SharedEncode(EncodeSection(), LiveSection(keyint_s=0.5), workers)   # a keyframe every 5 pictures
    for index in range(12):
        encode.write(out_frame(index, fresh=index != 3))
    encode.close()
    first, second = workers
    assert first.finished and second.finished
    assert len(first.items) == 12 and all(a is b for a, b in zip(first.items, second.items))   # one encode
    assert first.items[0].packet.keyframe
    assert [i.packet.pts for i in first.items] == list(range(12))
    # zerolatency: each picture's packet comes with it, so its arrival time does too (none for a repeat)
    assert [i.latency_from for i in first.items[:5]] == [100.0, 101.0, 102.0, None, 104.0]


def test_shared_encode_rests_while_nobody_listens_and_starts_a_new_viewer_on_a_keyframe():
    viewers = Viewers()
    worker = Worker(viewers)
    encode = SharedEncode(EncodeSection(), LiveSection(keyint_s=5.0), [worker])  # every 50 pictures
    for index in range(5):                          # mounted, nobody watching: nothing is encoded
        encode.write(out_frame(index))
    assert worker.items == [] and encode.skipped == 5
    viewers.idle = False                            # a viewer: encoding starts with a keyframe
    for index in range(5, 10):
        encode.write(out_frame(index))
    viewers.keyframe_wanted = True                  # another viewer restarted the media mid-GOP
    for index in range(10, 14):
        encode.write(out_frame(index))
    encode.close()
    keyframes = [item.packet.pts for item in worker.items if item.packet.keyframe]
    assert [item.packet.pts for item in worker.items] == list(range(5, 14))
    assert keyframes == [5, 10]                     # not at the 50-picture GOP: when a viewer needed one


class DelayingEncoder:
    """A PacketEncoder stand-in that returns each picture's packet two pictures late (frame threads do)."""

    template = None

    def __init__(self, *args, **kwargs) -> None:
        self.held: list[int] = []

    def encode(self, frame: Frame, keyframe: bool = False) -> list[EncodedPacket]:
        self.held.append(frame.pts)
        if len(self.held) <= 2:
            return []
        pts = self.held.pop(0)
        return [EncodedPacket(b"x", pts, pts, TIME_BASE, pts == 0)]

    def flush(self) -> list[EncodedPacket]:
        packets = [EncodedPacket(b"x", pts, pts, TIME_BASE, False) for pts in self.held]
        self.held = []
        return packets

    def close(self) -> None:
        pass


def test_a_delayed_packet_keeps_the_arrival_time_of_its_own_picture(monkeypatch):
    monkeypatch.setattr("stream.live.encoded.PacketEncoder", DelayingEncoder)
    worker = Worker()
    encode = SharedEncode(EncodeSection(), LiveSection(), [worker])
    for index in range(6):
        encode.write(out_frame(index, fresh=index != 2))
    encode.close()
    assert [i.packet.pts for i in worker.items] == list(range(6))
    assert [i.latency_from for i in worker.items] == [100.0, 101.0, None, 103.0, 104.0, 105.0]
