"""Tables for people: integers with thousands separators, empty cells empty, and in projector mode a
static table whose type grows with the rest of the page (a data grid is drawn on a canvas at a
fixed size, whatever the page's CSS says)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler


def _frame_of(data: pd.DataFrame | Styler) -> pd.DataFrame:
    return data.data if isinstance(data, Styler) else data


def integer_columns(frame: pd.DataFrame) -> list[str]:
    return [name for name in frame.columns if pd.api.types.is_integer_dtype(frame[name].dtype)
            and not pd.api.types.is_bool_dtype(frame[name].dtype)]


def number_config(frame: pd.DataFrame) -> dict[str, Any]:
    """Every integer column shown as 2,774,532,096 (the browser's locale), never 2774532096."""
    return {name: st.column_config.NumberColumn(format="localized") for name in integer_columns(frame)}


def cell_text(value: Any) -> str:
    """1234 -> "1,234"; 0.5 -> "0.5"; a missing value -> "" (never "None" or "<NA>")."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (hasattr(value, "is_integer") and float(value).is_integer() and abs(value) >= 1000):
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.1f}"
    return str(value)


def static_styler(data: pd.DataFrame | Styler) -> Styler:
    """The frame (or its Styler, keeping its colours) with every cell as ``cell_text`` shows it."""
    styler = data if isinstance(data, Styler) else data.style
    return styler.format(cell_text)


def show_table(data: pd.DataFrame | Styler, *, key: str, projector: bool, height: int | None = None,
               column_config: dict[str, Any] | None = None, static_columns: list[str] | None = None) -> None:
    """A data grid (sortable) normally; in projector mode a static table in the page's large type.

    ``static_columns`` narrows the projector table to the columns a class needs (a grid scrolls
    sideways, a static table would overflow the screen).
    """
    frame = _frame_of(data)
    if projector:
        shown = data
        if static_columns is not None:
            shown = frame[static_columns] if not isinstance(data, Styler) else data.hide(
                [name for name in frame.columns if name not in static_columns], axis="columns")
        st.table(static_styler(shown), hide_index=True)
        return
    config = number_config(frame) | (column_config or {})
    st.dataframe(data, hide_index=True, key=key, column_config=config, **({"height": height} if height else {}))
