"""Start the command ``make lab`` runs, wait until the Jupyter server answers, then stop it.

Usage (the Makefile's ``lab-check`` target)::

    python scripts/check_lab.py -- .venv/bin/jupyter lab --allow-root notebooks/00_quickstart.ipynb

The server gets a free port, a random token, no browser and its own runtime folders, so it can
run next to a real ``make lab``. Exit status 0 when ``GET /api/status`` answered 200 within the
timeout, 1 otherwise (the server's log is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_status(url: str, proc: subprocess.Popen[bytes], timeout_s: float) -> dict[str, object] | None:
    """Poll ``url`` until it answers 200 (its JSON), the process exits, or the time is up (``None``)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return dict(json.loads(reply.read()))
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    return None


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for the server")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the lab command, after --")
    args = parser.parse_args(argv)
    command = [c for c in args.command if c != "--"]
    if not command:
        parser.error("give the lab command after --")
    port, token = free_port(), secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="latentlab-lab-check-") as tmp:
        env = {**os.environ}
        for var in ("JUPYTER_RUNTIME_DIR", "JUPYTERLAB_WORKSPACES_DIR"):
            env[var] = str(Path(tmp) / var.lower())
        log = Path(tmp) / "lab.log"
        full = [
            *command,
            "--no-browser",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            "--ServerApp.ip=127.0.0.1",
        ]
        with log.open("wb") as out:
            proc = subprocess.Popen(full, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
            try:
                status = wait_for_status(f"http://127.0.0.1:{port}/api/status?token={token}", proc, args.timeout)
            finally:
                stop(proc)
        if status is None:
            print(f"lab-check: the server did not answer on port {port} within {args.timeout:.0f} s", file=sys.stderr)
            print(f"command: {' '.join(full)}\n--- log ---\n{log.read_text(errors='replace')[-4000:]}", file=sys.stderr)
            return 1
        print(f"lab-check: JupyterLab answered /api/status on port {port} (started {status.get('started')}); stopped")
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
