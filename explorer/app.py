"""VGG Explorer, the Streamlit app: ``vgg-explorer`` once the project is installed (``pip install -e .``),
or ``streamlit run explorer/app.py`` from the checkout with it installed.

A thin entry point: the sidebar yields an AppState, the tabs pick a view, and only the open
view does any work (tabs track their state, so hidden views cost nothing).
"""

import streamlit as st

from explorer import sidebar, style
from explorer.guard import guarded
from explorer.views import VIEWS

st.set_page_config(page_title="VGG Explorer", page_icon=":material/account_tree:", layout="wide")
state = sidebar.render(tuple(view.title for view in VIEWS))
style.apply(projector=state.projector)
tabs = st.tabs([view.title for view in VIEWS], key="view", on_change="rerun", bind="query-params")
for tab, view in zip(tabs, VIEWS, strict=True):
    with tab:
        if tab.open:
            guarded(view.render, state)
