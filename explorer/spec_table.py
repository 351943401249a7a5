"""A spec as an editable table (one row per layer) and back, for "design your own VGG"."""

from __future__ import annotations

import pandas as pd

import vgg
from vgg.arch import Conv, MaxPool, VGGSpec

LAYER_KINDS = ("conv 3×3", "conv 1×1", "max pool", "LRN")
COLUMNS = ("Layer", "Channels")


def spec_to_frame(spec: VGGSpec) -> pd.DataFrame:
    rows = []
    for layer in spec.layers:
        if isinstance(layer, Conv):
            rows.append({"Layer": "conv 3×3" if layer.kernel_size == 3 else "conv 1×1", "Channels": layer.out_channels})
        else:
            rows.append({"Layer": "max pool" if isinstance(layer, MaxPool) else "LRN", "Channels": None})
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype({"Channels": "Int64"})


def frame_to_text(frame: pd.DataFrame) -> str:
    """Rows back to spec text; a conv row without channels becomes a token the parser refuses by name."""
    tokens = []
    for layer, channels in zip(frame["Layer"], frame["Channels"], strict=True):
        if layer == "max pool":
            tokens.append("M")
        elif layer == "LRN":
            tokens.append("LRN")
        elif layer in ("conv 3×3", "conv 1×1"):
            width = "?" if pd.isna(channels) else str(int(channels))
            tokens.append(width if layer == "conv 3×3" else f"conv1-{width}")
    return " ".join(tokens)


def text_to_frame(text: str) -> pd.DataFrame | None:
    """The table for valid text; None when the text does not parse (the text box shows why)."""
    try:
        return spec_to_frame(vgg.parse_spec(text))
    except vgg.VGGError:
        return None

