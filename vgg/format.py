"""Numbers for people, the same everywhere (tables, the command line, the app, diagrams, errors):
138.36 M, 15.47 G, 527.8 MiB, 1×64×224×224."""

from __future__ import annotations

from collections.abc import Callable

MIB = 2**20


def count(value: float, *, digits: int = 2) -> str:
    """138357544 -> '138.36 M'; 1792 -> '1,792'."""
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M")):
        if abs(value) >= scale:
            return f"{value / scale:.{digits}f} {suffix}"
    return f"{value:,.0f}"


def short_count(value: int) -> str:
    """1792 -> "1.8K", 86704128 -> "86.7M": a diagram's node label has room for three digits."""
    for divisor, suffix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(value) >= divisor:
            return f"{value / divisor:.3g}{suffix}"
    return str(value)


def giga(value: float) -> str:
    """15470264320 -> '15.470 G' (torchvision's _ops are given to three decimals)."""
    return f"{value / 1e9:.3f} G"


def nbytes(value: float) -> str:
    """Binary units, as memory is reported by tools people compare with (nvidia-smi, torchinfo's MB aside)."""
    for scale, suffix in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if abs(value) >= scale:
            return f"{value / scale:.1f} {suffix}"
    return f"{value:.0f} B"


def mib(value: float, *, digits: int = 1) -> str:
    """Bytes in MiB with thousands separators: 553648128 -> '528.0 MiB'."""
    return f"{value / MIB:,.{digits}f} MiB"


def exact(value: float) -> str:
    """Every digit, with thousands separators: 132863336 -> '132,863,336' (tables that are compared digit
    by digit, such as the command line's)."""
    return f"{value:,}"


def difference(value: float | None, formatter: Callable[[float], str] = count) -> str:
    """A change between two values, for a reader: '+10.00 M', '−2.0 KiB' (a real minus sign), 'equal'
    when there is none (not '+0': no sign, no arrow, for no change), '' when it is not known."""
    if value is None:
        return ""
    if value == 0:
        return "equal"
    text = formatter(abs(value))
    return f"+{text}" if value > 0 else f"\u2212{text}"


def ratio(b: float | None, a: float | None, *, digits: int = 2, suffix: str = "×") -> str:
    """B / A for a reader: '1.04×'; 'same' when the two are equal (not '1.00×', which a rounded change also
    reads as); '' when a side is missing or A is zero."""
    if a is None or b is None or a == 0:
        return ""
    return "same" if a == b else f"{b / a:.{digits}f}{suffix}"


def shape(dims: tuple[int, ...]) -> str:
    """(1, 64, 224, 224) -> '1 × 64 × 224 × 224', spaced for prose and captions."""
    return " × ".join(str(d) for d in dims)


def format_shape(dims: tuple[int, ...] | None) -> str:
    """(1, 64, 224, 224) -> '1×64×224×224', compact for table cells; None -> ''."""
    return "" if dims is None else "×".join(str(side) for side in dims)
