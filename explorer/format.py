"""Numbers for people: 138.36 M, 15.47 G, 527.8 MiB."""

from __future__ import annotations

from collections.abc import Callable


def count(value: float, *, digits: int = 2) -> str:
    """138357544 -> '138.36 M'; 1792 -> '1,792'."""
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M")):
        if abs(value) >= scale:
            return f"{value / scale:.{digits}f} {suffix}"
    return f"{value:,.0f}"


def nbytes(value: float) -> str:
    """Binary units, as memory is reported by tools people compare with (nvidia-smi, torchinfo's MB aside)."""
    for scale, suffix in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if abs(value) >= scale:
            return f"{value / scale:.1f} {suffix}"
    return f"{value:.0f} B"


def signed(value: float, formatter: Callable[[float], str] = count) -> str:
    """A delta with its sign: '+10.00 M', '-2.0 KiB', '0'."""
    return ("+" if value > 0 else "") + formatter(value) if value else "0"


def shape(dims: tuple[int, ...]) -> str:
    return " × ".join(str(d) for d in dims)
