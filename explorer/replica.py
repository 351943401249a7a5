"""Behind a load balancer (deploy/): tell a browser whose server was stopped that its session has moved.

A session lives in one server's memory. When that server stops, nginx sends the browser's reconnection to
another server, which starts a fresh session without the uploads and results: the page would look alive
but forget things. nginx records in a cookie which server sent the page (deploy/nginx.conf.template); a
server that the launcher told its own address compares the two and asks the user to reload.
"""

from __future__ import annotations

import os

import streamlit as st

SERVER_ADDRESS_ENV = "VGG_EXPLORER_SERVER_ADDRESS"  # set by deploy/cluster.py: host:port, as nginx reaches it
SERVER_COOKIE = "vgg_server"  # set by nginx on the page: the address of the server that sent it


def page_server(cookie: str | None) -> str:
    """The server that answered the page request: the cookie is nginx's $upstream_addr, in quotes, and lists
    every server tried ("a, b" when a refused and b answered)."""
    return (cookie or "").strip().strip('"').split(",")[-1].strip()


def moved_here(cookie: str | None, own_address: str | None) -> bool:
    """Whether the page was sent by another server than this one (both known)."""
    sent_by = page_server(cookie)
    return bool(sent_by and own_address) and sent_by != own_address


def notice() -> None:
    """A warning at the top of the page when this session's page came from a server that has gone."""
    if moved_here(st.context.cookies.get(SERVER_COOKIE), os.environ.get(SERVER_ADDRESS_ENV)):
        st.warning("The server this page came from has stopped, and your session continues on another one, which "
                   "does not have your uploads or results. Reload the page to carry on: your settings are in its "
                   "address; upload your image again.", icon=":material/sync_problem:")
