"""An image task where only one region matters, for convolutional models.

Images are ``size x size x channels`` of iid N(0, 1) pixels; the target is the mean of channel 0
over the square ``region`` (rows and columns ``[r0, r1)``) times ``scale``. Every other pixel and
channel has zero derivative.
"""

from __future__ import annotations

import numpy as np


def make_region_images(
    n: int = 3000, size: int = 10, channels: int = 2, region=(1, 4), seed: int = 0, scale: float = 3.0
):
    """Return ``(images (n, size, size, channels), y (n,), region mask (size, size, channels))``."""
    rng = np.random.default_rng(seed)
    images = rng.standard_normal((n, size, size, channels)).astype("float32")
    r0, r1 = region
    mask = np.zeros((size, size, channels), dtype=bool)
    mask[r0:r1, r0:r1, 0] = True
    y = scale * images[:, r0:r1, r0:r1, 0].mean(axis=(1, 2))
    return images, y.astype("float32"), mask
