"""The lesson's walk through ``make_layers``: one step per spec entry, with the numbers the
analysis engine computed for the modules that entry appends (so lesson and tables always agree)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vgg.arch.spec import LRN, Conv, LayerSpec, MaxPool
from vgg.errors import VGGError
from vgg.teaching.source import highlighted_lines

_ENTRY_KIND = {Conv: "conv", LRN: "lrn", MaxPool: "pool"}
_MODULES_PER_ENTRY = {"lrn": 1, "pool": 1}  # a conv appends conv, (bn), relu


@dataclass(frozen=True)
class BuildStep:
    """The state of make_layers after reading entry ``index`` of the spec (0-based)."""

    index: int
    entry: LayerSpec
    token: str  # as in torchvision's list: 64, "M"; or the paper's conv1-256 / LRN
    kind: str  # "conv", "lrn", "pool"
    appended: tuple  # the LayerRows of the modules this entry appended
    in_channels_before: int
    in_channels_after: int
    output_shape: tuple[int, ...]  # after this entry, batch included
    params_so_far: int
    macs_so_far: int
    source_lines: tuple[int, ...]  # 0-based lines of make_layers that ran

    @property
    def paper_names(self) -> str:
        return ", ".join(row.paper_name for row in self.appended)


def build_steps(spec_layers: Sequence[LayerSpec], rows: Sequence, *, batch_norm: bool) -> tuple[BuildStep, ...]:
    """Pair each spec entry with the analysis rows of the modules it appended to ``features``.

    ``rows`` are a report's layers (features first, in order); a conv entry owns its conv, BN
    (when on) and ReLU rows, a pool or LRN entry one row.
    """
    steps: list[BuildStep] = []
    cursor, in_channels, params, macs = 0, 3, 0, 0
    for index, entry in enumerate(spec_layers):
        kind = _ENTRY_KIND[type(entry)]
        count = _MODULES_PER_ENTRY.get(kind, 3 if batch_norm else 2)
        appended = tuple(rows[cursor:cursor + count])
        if len(appended) != count or not all(row.name.startswith("features.") for row in appended):
            raise VGGError(f"Spec entry {index + 1} ({entry.to_token()}) has no matching layers in the analysis.")
        cursor += count
        before = in_channels
        in_channels = entry.out_channels if isinstance(entry, Conv) else in_channels
        params += sum(row.params for row in appended)
        macs += sum(row.macs for row in appended)
        token = entry.to_token()
        steps.append(BuildStep(index=index, entry=entry, token=token, kind=kind, appended=appended,
                               in_channels_before=before, in_channels_after=in_channels,
                               output_shape=tuple(appended[-1].output_shape), params_so_far=params,
                               macs_so_far=macs, source_lines=highlighted_lines(kind, batch_norm)))
    return tuple(steps)
