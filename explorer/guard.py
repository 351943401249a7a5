"""One place that turns exceptions into messages: a view never shows a traceback page."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import streamlit as st

import vgg
from explorer.state import AppState

log = logging.getLogger("explorer")
# What st.error and st.warning would read as markdown: links and images ([x](url), ![](url)), <autolinks>,
# LaTeX ($), emphasis, code, tables. (A bare http://... still becomes a link, but one that shows its address.)
_MARKDOWN = re.compile(r"[\\`*_\[\]<>$~|]")


def plain(text: str) -> str:
    """``text`` shown as written. Messages quote what a user typed, or what a shared link carried
    (``?config=![](http://...)``), and Streamlit renders them as markdown: unescaped, a link could put a
    clickable link or a remote image into someone else's page."""
    return _MARKDOWN.sub(lambda match: "\\" + match.group(0), text)


def guarded(render: Callable[[AppState], None], state: AppState) -> None:
    """Run a view; a vgg.VGGError (the library's user-facing errors, each saying what to do) becomes st.error
    with its message, anything else an error that says what to do, logged for whoever reports it."""
    try:
        render(state)
    except vgg.VGGError as error:
        st.error(plain(str(error)), icon=":material/error:")
    except MemoryError:
        st.error("The machine ran out of memory for this model and input. Try a smaller input size, "
                 "a smaller configuration, or random weights on the CPU.", icon=":material/memory:")
    except Exception as error:  # the last line of defence: keep the app usable
        log.exception("view %s failed", getattr(render, "__module__", render))
        st.error(f"Something went wrong in this view ({type(error).__name__}: {plain(str(error))}). The other views "
                 "still work; change a setting to try again, and report this if it persists.",
                 icon=":material/bug_report:")
