"""Several VGG Explorer servers behind nginx on one machine, started and stopped together.

    python -m deploy.cluster --replicas 2 --port 8660            # nginx on 8660, the app on 8661 and 8662
    python -m deploy.cluster --replicas 4 --port 80 --listen 0.0.0.0 --replica-ports 8501 8502 8503 8504

Runs until Ctrl-C (or SIGTERM), then stops every process it started, by its own handle. Each replica is
``streamlit run explorer/app.py`` on 127.0.0.1; nginx (Debian's package) listens on ``--listen:--port``
and keeps each browser on one replica (a cookie hashed to a server, see nginx.conf.template). The
replicas share one cookie secret, so the XSRF token a browser got from one is accepted by another after
a failover. Logs and the rendered nginx.conf go to ``--run-dir`` (a fresh temporary folder by default).

The same functions start the servers of the browser tests (tests/e2e), which need their process handles.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("nginx.conf.template")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SERVER_ADDRESS_ENV = "VGG_EXPLORER_SERVER_ADDRESS"  # the address the proxy reaches this server at
COOKIE_SECRET_ENV = "STREAMLIT_SERVER_COOKIE_SECRET"  # Streamlit's server.cookieSecret, shared by replicas
MAX_BODY_MB = 60  # nginx's limit, above .streamlit/config.toml's server.maxUploadSize (50 MB)


def app_command(port: int, address: str = "127.0.0.1") -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", "explorer/app.py", "--server.headless", "true",
            "--server.address", address, "--server.port", str(port), "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none"]


def start_app(port: int, log_path: Path, extra_env: dict[str, str] | None = None,
              address: str = "127.0.0.1") -> subprocess.Popen:
    """One app server on ``address:port``, logging to ``log_path``; not yet healthy (see ``wait_healthy``)."""
    env = {**os.environ, **(extra_env or {})}
    with log_path.open("wb") as log:
        return subprocess.Popen(app_command(port, address), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 90) -> float:
    """Poll ``url``/_stcore/health until it says ok; the seconds it took. Raises if the process exits."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url}/_stcore/health did not answer ok within {timeout} s")


def stop(process: subprocess.Popen, *, timeout: float = 10) -> None:
    """Terminate one process we started, then kill it if it does not exit in time."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def render_nginx_conf(listen: str, upstreams: Sequence[str], run_dir: Path) -> str:
    servers = "\n".join(f"        server {address} max_fails=1 fail_timeout=30s;" for address in upstreams)
    text = TEMPLATE.read_text()
    for name, value in (("RUN_DIR", str(run_dir)), ("LISTEN", listen), ("SERVERS", servers),
                        ("MAX_BODY_MB", str(MAX_BODY_MB))):
        text = text.replace("{{" + name + "}}", value)
    return text


@dataclass
class Replica:
    address: str  # host:port, as nginx reaches it
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://{self.address}"


@dataclass
class Cluster:
    url: str  # the proxy, where browsers go
    nginx: subprocess.Popen
    replicas: list[Replica] = field(default_factory=list)
    run_dir: Path = Path()

    def stop_replica(self, index: int) -> None:
        stop(self.replicas[index].process)

    def stop(self) -> None:
        for replica in self.replicas:
            stop(replica.process)
        stop(self.nginx)


@contextlib.contextmanager
def running_cluster(replica_ports: Sequence[int], port: int, *, listen: str = "127.0.0.1",
                    run_dir: Path | None = None, extra_env: dict[str, str] | None = None) -> Iterator[Cluster]:
    """Start the replicas and nginx, wait until each answers, yield the Cluster; stop everything on exit."""
    if not Path(NGINX).exists():
        raise FileNotFoundError("nginx is not installed: apt-get install nginx")
    run_dir = Path(run_dir or tempfile.mkdtemp(prefix="vgg-explorer-cluster-"))
    run_dir.mkdir(parents=True, exist_ok=True)
    secret = os.environ.get(COOKIE_SECRET_ENV) or secrets.token_hex(32)
    replicas: list[Replica] = []
    nginx: subprocess.Popen | None = None
    try:
        for replica_port in replica_ports:
            address = f"127.0.0.1:{replica_port}"
            log = run_dir / f"app-{replica_port}.log"
            env = {**(extra_env or {}), COOKIE_SECRET_ENV: secret, SERVER_ADDRESS_ENV: address}
            replicas.append(Replica(address, start_app(replica_port, log, env), log))
        conf = run_dir / "nginx.conf"
        conf.write_text(render_nginx_conf(f"{listen}:{port}", [replica.address for replica in replicas], run_dir))
        with (run_dir / "nginx.out").open("wb") as out:
            nginx = subprocess.Popen([NGINX, "-p", str(run_dir), "-e", str(run_dir / "error.log"), "-c", str(conf),
                                      "-g", "daemon off;"], stdout=out, stderr=subprocess.STDOUT)
        for replica in replicas:
            wait_healthy(replica.url, replica.process)
        cluster = Cluster(f"http://{'127.0.0.1' if listen == '0.0.0.0' else listen}:{port}", nginx, replicas, run_dir)
        wait_healthy(cluster.url, nginx, timeout=30)
        yield cluster
    finally:
        for replica in replicas:
            stop(replica.process)
        if nginx is not None:
            stop(nginx)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=2, help="app servers to start (default 2)")
    parser.add_argument("--port", type=int, default=8660, help="nginx's port (default 8660)")
    parser.add_argument("--listen", default="127.0.0.1", help="nginx's address; 0.0.0.0 for a classroom network")
    parser.add_argument("--replica-ports", type=int, nargs="+",
                        help="the app servers' ports on 127.0.0.1 (default: the ports after --port)")
    parser.add_argument("--run-dir", type=Path, help="logs and nginx.conf (default: a new temporary folder)")
    args = parser.parse_args(argv)
    ports = args.replica_ports or [args.port + 1 + index for index in range(args.replicas)]
    if len(ports) != args.replicas:
        parser.error(f"--replica-ports names {len(ports)} ports for {args.replicas} replicas")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop the children on SIGTERM as on Ctrl-C
    with running_cluster(ports, args.port, listen=args.listen, run_dir=args.run_dir) as cluster:
        print(f"VGG Explorer on {cluster.url} ({len(ports)} servers: "
              f"{', '.join(replica.address for replica in cluster.replicas)}); logs in {cluster.run_dir}. "
              "Ctrl-C stops them.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while cluster.nginx.poll() is None and any(r.process.poll() is None for r in cluster.replicas):
                time.sleep(1)  # a replica that exits leaves its browsers to the others
    return 0


if __name__ == "__main__":
    sys.exit(main())
