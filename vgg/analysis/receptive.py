"""Which input pixels a feature-map position sees, from a layer's receptive field, jump and start.

For a single-path network the recurrence gives, per layer: ``rf`` (the side of the input square a
position sees), ``jump`` (input pixels between neighbouring positions, the effective stride) and
``start`` (the input coordinate of the centre of position 0, which can be negative with padding).
Position ``i`` is then centred at ``start + i * jump`` and spans ``rf`` pixels around it.
"""

from __future__ import annotations

from dataclasses import dataclass

from vgg.errors import VGGError


@dataclass(frozen=True)
class InputBox:
    """The input region one feature-map position sees: the full square (can extend past the
    image into zero padding) and its part inside the image, both as [top, bottom) x [left, right)."""

    center_y: float
    center_x: float
    size: int
    top: float
    left: float
    bottom: float
    right: float
    clipped_top: int
    clipped_left: int
    clipped_bottom: int
    clipped_right: int

    @property
    def visible_fraction(self) -> float:
        """Share of the receptive field that lies on real pixels rather than padding."""
        inside = (self.clipped_bottom - self.clipped_top) * (self.clipped_right - self.clipped_left)
        return inside / float(self.size * self.size)


def receptive_box(*, receptive_field: int, jump: int, start: float, position: tuple[int, int],
                  input_size: tuple[int, int]) -> InputBox:
    """The input box seen by feature-map ``position`` (row, col) of a layer; ``input_size`` is (H, W)."""
    row, col = position
    if row < 0 or col < 0:
        raise VGGError(f"Position {position} is outside the feature map: rows and columns start at 0.")
    center_y, center_x = start + row * jump, start + col * jump
    half = (receptive_field - 1) / 2
    # Pixel i covers [i, i+1): a field of rf pixels centred on pixel c covers [c - half, c + half + 1).
    top, left = center_y - half, center_x - half
    bottom, right = center_y + half + 1, center_x + half + 1
    height, width = input_size
    return InputBox(
        center_y=center_y, center_x=center_x, size=receptive_field, top=top, left=left, bottom=bottom, right=right,
        clipped_top=int(max(0, top)), clipped_left=int(max(0, left)),
        clipped_bottom=int(min(height, bottom)), clipped_right=int(min(width, right)),
    )


def stacked_conv_equivalence(kernel: int = 3, max_layers: int = 3, channels: int = 256) -> list[dict[str, int]]:
    """The paper's argument (Sec. 2.3): n stacked k x k convs see as far as one (n(k-1)+1)-wide conv,
    with n * k^2 * C^2 weights instead of (n(k-1)+1)^2 * C^2 (C channels in and out, biases aside)."""
    rows = []
    for layers in range(1, max_layers + 1):
        field = layers * (kernel - 1) + 1
        stacked = layers * kernel * kernel * channels * channels
        single = field * field * channels * channels
        rows.append({"layers": layers, "receptive_field": field, "stacked_weights": stacked,
                     "single_conv_weights": single, "saving_percent": round(100 * (1 - stacked / single))})
    return rows
