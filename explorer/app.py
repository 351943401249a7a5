"""VGG Explorer, the Streamlit app: ``vgg-explorer`` once the project is installed (``pip install -e .``),
or ``streamlit run explorer/app.py`` from the checkout with it installed.

A thin entry point: the sidebar yields an AppState, the tabs pick a view, and only the open
view does any work (tabs track their state, so hidden views cost nothing).
"""

import streamlit as st

from explorer import replica, session_memory, sidebar, style
from explorer.guard import guarded
from explorer.views import VIEWS

st.set_page_config(page_title="VGG Explorer", page_icon=":material/account_tree:", layout="wide")
state = sidebar.render(tuple(view.title for view in VIEWS))
style.apply(projector=state.projector)
replica.notice()  # behind a load balancer: this session's server was stopped
tabs = st.tabs([view.title for view in VIEWS], key="view", on_change="rerun", bind="query-params")
open_views = [view.title for tab, view in zip(tabs, VIEWS, strict=True) if tab.open]
for tab, view in zip(tabs, VIEWS, strict=True):
    with tab:
        if tab.open:
            guarded(view.render, state)
session_memory.RESULTS.keep_only(session_memory.session_id(), open_views)  # what is not on screen is let go
session_memory.start_sweeper()  # and what sits idle for a few minutes
