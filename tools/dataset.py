"""The training pool: clean photos from ``../shared/data/clean``, oriented, resized and cropped.

Every training loop (``tools.train``, ``train_quality``, ``train_fusion``) and the
evaluation (``tools.eval``, which measures on the held-out ``DEV_FOLDERS``) read
pictures through here.
"""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import torch

from stream.images import is_image_path

DEV_FOLDERS = ("kodak24", "cbsd68")          # held out: tools/eval.py measures on these
SHORT_SIDE = 320
CROP = (288, 448)                            # (H, W), multiples of 16
MIN_MEAN_LUMA = 0.2                          # drop pictures that are dark by content


def list_training_images(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if is_image_path(p)
                  and not any(part in DEV_FOLDERS for part in p.parts))


def load_landscape(path: Path, short_side: int = SHORT_SIDE) -> np.ndarray | None:
    """RGB uint8, landscape, short side ``short_side``; None if unreadable or dark by content."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        return None
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    if rgb.shape[0] > rgb.shape[1]:
        rgb = np.ascontiguousarray(rgb.transpose(1, 0, 2))
    scale = short_side / rgb.shape[0]
    rgb = cv2.resize(rgb, (max(CROP[1], round(rgb.shape[1] * scale)), short_side), interpolation=cv2.INTER_AREA)
    if rgb.mean() / 255.0 < MIN_MEAN_LUMA:
        return None
    return rgb


def sample_batch(images: list[np.ndarray], batch: int, rng: random.Random,
                 crop_size: tuple[int, int] = CROP) -> torch.Tensor:
    """Random crops (N, 3, *crop_size) float in [0, 1], mirrored half the time."""
    crops = []
    for _ in range(batch):
        image = images[rng.randrange(len(images))]
        top = rng.randrange(image.shape[0] - crop_size[0] + 1)
        left = rng.randrange(image.shape[1] - crop_size[1] + 1)
        crop = image[top:top + crop_size[0], left:left + crop_size[1]]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        crops.append(torch.from_numpy(np.ascontiguousarray(crop)).permute(2, 0, 1))
    return torch.stack(crops).float() / 255.0


def prepare(root: Path, out: Path) -> None:
    """Write the training pool, already oriented and resized, as JPEG files (for machines without ../shared)."""
    out.mkdir(parents=True, exist_ok=True)
    for path in list_training_images(root):
        image = load_landscape(path)
        if image is not None:
            cv2.imwrite(str(out / f"{path.parent.name}__{path.stem}.jpg"), image[:, :, ::-1],
                        [cv2.IMWRITE_JPEG_QUALITY, 88])


def load_training_pool(data: Path) -> list[np.ndarray]:
    paths = list_training_images(data)
    images = [im for im in (load_landscape(p) for p in paths) if im is not None]
    print(f"training images: {len(images)} of {len(paths)} (dev folders {DEV_FOLDERS} held out)")
    return images
