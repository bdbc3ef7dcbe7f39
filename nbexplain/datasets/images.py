"""An image task where only one region matters, for convolutional models.

Images are ``size x size x channels`` of iid N(0, 1) pixels; the target is the mean of channel 0
over the square ``region`` (rows and columns ``[r0, r1)``) times ``scale``. Every other pixel and
channel has zero derivative.
"""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentError, real_number, whole_number


def make_region_images(
    n: int = 3000, size: int = 10, channels: int = 2, region=(1, 4), seed: int = 0, scale: float = 3.0
):
    """Return ``(images (n, size, size, channels), y (n,), region mask (size, size, channels))``."""
    n = whole_number("n", n, minimum=1, meaning="the number of images to draw")
    size = whole_number("size", size, minimum=1, meaning="the image height and width in pixels")
    channels = whole_number("channels", channels, minimum=1)
    seed = whole_number("seed", seed, minimum=0)
    scale = real_number("scale", scale)
    try:
        r0, r1 = region
        r0 = whole_number("region[0]", r0, minimum=0, maximum=size - 1)
        r1 = whole_number("region[1]", r1, minimum=r0 + 1, maximum=size)
    except (TypeError, ValueError):
        raise ArgumentError(
            f"region must be a pair (r0, r1) of whole numbers with 0 <= r0 < r1 <= size ({size}): the rows and "
            f"columns [r0, r1) of channel 0 make the target; got {region!r}."
        ) from None
    rng = np.random.default_rng(seed)
    images = rng.standard_normal((n, size, size, channels)).astype("float32")
    mask = np.zeros((size, size, channels), dtype=bool)
    mask[r0:r1, r0:r1, 0] = True
    y = scale * images[:, r0:r1, r0:r1, 0].mean(axis=(1, 2))
    return images, y.astype("float32"), mask
