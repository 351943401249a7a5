"""deploy/: the nginx configuration the launcher renders, and the app's notice for a browser whose server went."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deploy.cluster import NGINX, render_nginx_conf
from explorer.replica import moved_here, page_server


def test_the_rendered_config_is_sticky_and_proxies_websockets(tmp_path: Path) -> None:
    text = render_nginx_conf("127.0.0.1:8660", ["127.0.0.1:8661", "127.0.0.1:8662"], tmp_path)
    assert "{{" not in text
    for line in ("hash $vgg_route consistent;", "proxy_http_version 1.1;", "proxy_set_header Upgrade $http_upgrade;",
                 "proxy_set_header Connection $connection_upgrade;", "proxy_read_timeout 1h;",
                 "server 127.0.0.1:8661 max_fails=1 fail_timeout=30s;", "listen 127.0.0.1:8660;"):
        assert line in text, line


@pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx not installed (apt-get install nginx)")
def test_nginx_accepts_the_rendered_config(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_nginx_conf("127.0.0.1:8660", ["127.0.0.1:8661"], tmp_path))
    result = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(conf)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def test_the_page_server_is_the_last_address_nginx_tried() -> None:
    assert page_server('"127.0.0.1:8661"') == "127.0.0.1:8661"
    assert page_server('"127.0.0.1:8661, 127.0.0.1:8662"') == "127.0.0.1:8662"
    assert page_server(None) == ""


def test_a_session_is_told_it_moved_only_when_both_addresses_are_known_and_differ() -> None:
    assert moved_here('"127.0.0.1:8661"', "127.0.0.1:8662")
    assert not moved_here('"127.0.0.1:8662"', "127.0.0.1:8662")
    assert not moved_here(None, "127.0.0.1:8662")  # no proxy in front
    assert not moved_here('"127.0.0.1:8661"', None)  # not started by the launcher
