"""Start `python app.py` on a free loopback port, wait for its first answer, read its memory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int, field: str = "VmHWM") -> float:
    """Resident memory of a process from /proc (VmHWM = peak, VmRSS = now), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    cold_start_s: float

    def peak_rss_mb(self) -> float:
        return rss_mb(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_server(
    env: dict[str, str] | None = None, timeout_s: float = 180.0, log_path: Path | None = None
) -> Server:
    """Launch the app and poll /api/ask until the first 200; the time taken is the cold start."""
    port = free_port()
    environment = {
        **os.environ,
        "PAINBOT_PORT": str(port),
        "PAINBOT_HOST": "127.0.0.1",
        "PAINBOT_RATE_LIMIT": "0",
        **(env or {}),
    }
    out = log_path.open("wb") if log_path else subprocess.DEVNULL
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "app.py"], cwd=REPO, env=environment, stdout=out, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    while time.perf_counter() - start < timeout_s:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with code {process.returncode} (see {log_path})")
        try:
            response = httpx.post(
                url + "/api/ask", json={"question": "What is ketamine?"}, timeout=30
            )
            if response.status_code == 200:
                return Server(process, url, time.perf_counter() - start)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"app.py gave no answer within {timeout_s:.0f} s")
