"""The app's views, in tab order; each module has a TITLE and a ``render(state)``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from explorer.state import AppState
from explorer.views import (
    compare,
    diagram,
    explain,
    forward,
    layers,
    lesson,
    overview,
    paper,
    performance,
    receptive_field,
    train,
)


@dataclass(frozen=True)
class View:
    title: str
    render: Callable[[AppState], None]


def _view(module: ModuleType) -> View:
    return View(module.TITLE, module.render)


VIEWS: tuple[View, ...] = tuple(_view(module) for module in (overview, layers, diagram, forward, explain, compare,
                                                                lesson, receptive_field, performance, paper, train))
