"""tools.dataset: which files count as training pictures."""

from __future__ import annotations

import cv2
import numpy as np

from stream.images import IMAGE_SUFFIXES
from tools.dataset import DEV_FOLDERS, list_training_images


def test_training_lists_every_image_type_the_product_reads_and_leaves_dev_folders_out(tmp_path):
    picture = np.full((8, 8, 3), 128, np.uint8)
    expected = []
    for suffix in IMAGE_SUFFIXES:                          # one list of suffixes for product and tools
        path = tmp_path / "photos" / f"a{suffix.upper() if suffix == '.jpg' else suffix}"
        path.parent.mkdir(exist_ok=True)
        assert cv2.imwrite(str(path), picture), suffix
        expected.append(path)
    (tmp_path / "photos" / "notes.txt").write_text("not a picture")
    held_out = tmp_path / DEV_FOLDERS[0] / "kodim01.png"
    held_out.parent.mkdir()
    cv2.imwrite(str(held_out), picture)
    assert list_training_images(tmp_path) == sorted(expected)
