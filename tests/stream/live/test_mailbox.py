"""The enhancer → pacer mailbox: only the newest pair is kept, and every pair replaced unseen is a counted drop."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from engines.image import YuvImage
from stream.frame import Frame
from stream.live.mailbox import Mailbox


def pair(index: int) -> tuple[Frame, YuvImage]:
    image = YuvImage(np.full((4, 4), index, np.uint8), np.full((2, 2), 128, np.uint8), np.full((2, 2), 128, np.uint8))
    return Frame(image=image, pts=index, time_base=Fraction(1, 90000), index=index, display_size=(4, 4)), image


def test_a_pair_replaced_before_it_was_taken_is_counted_as_dropped():
    drops: list[int] = []
    mailbox = Mailbox(on_drop=lambda: drops.append(1))
    assert mailbox.take() == (0, None)
    mailbox.put(*pair(0))                      # the first pair replaces nothing
    assert drops == []
    mailbox.put(*pair(1))                      # pair 0 was never taken: dropped
    mailbox.put(*pair(2))                      # pair 1 neither
    assert len(drops) == 2
    sequence, (frame, _) = mailbox.take()
    assert sequence == 3 and frame.index == 2
    mailbox.put(*pair(3))                      # pair 2 went out: no drop
    assert len(drops) == 2


def test_peeking_is_not_taking():
    drops: list[int] = []
    mailbox = Mailbox(on_drop=lambda: drops.append(1))
    mailbox.put(*pair(0))
    sequence, (frame, _) = mailbox.peek()      # the pacer waiting for its first pair looks, shows nothing yet
    assert sequence == 1 and frame.index == 0
    mailbox.put(*pair(1))
    assert len(drops) == 1


def test_taking_the_same_pair_again_changes_nothing():
    drops: list[int] = []
    mailbox = Mailbox(on_drop=lambda: drops.append(1))
    mailbox.put(*pair(0))
    first = mailbox.take()
    assert mailbox.take() == first             # a repeat tick: same sequence, same pair
    mailbox.put(*pair(1))
    assert drops == []
