"""`referral-router run` and `referral-router demo`, as a newcomer runs them:
two processes, the embedded router on SQLite and the synthetic tour against it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.conftest import free_port

# The console command the project installs, beside this interpreter.
COMMAND = [str(Path(sys.executable).with_name("referral-router"))]
ROOT = Path(__file__).resolve().parents[2]


def wait_until_live(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"run exited with {process.returncode}")
        try:
            if requests.get(f"{url}/livez", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError("the router did not answer /livez in time")


def test_run_then_demo_files_delivers_and_acknowledges(tmp_path):
    """The run command serves; the demo files synthetic reports through it,
    sees each delivered to its contact point, acknowledges some, and reads
    every acknowledgement back within target."""
    port, receiver_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    environment = dict(
        os.environ,
        ROUTER_INSTANCE_DIR=str(tmp_path / "instance"),
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    environment.pop("DATABASE_URL", None)
    environment.pop("BROKER_URL", None)
    log = (tmp_path / "run.log").open("w")
    server = subprocess.Popen(
        [*COMMAND, "run", "--port", str(port), "--receiver-port", str(receiver_port)],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        wait_until_live(url, server)
        tour = subprocess.run(
            [
                *COMMAND,
                "demo",
                "--url",
                url,
                "--receiver-url",
                f"http://127.0.0.1:{receiver_port}",
                "--count",
                "4",
            ],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            check=False,
        )
    finally:
        server.send_signal(signal.SIGTERM)
        stopped = server.wait(timeout=30)
        log.close()

    assert tour.returncode == 0, tour.stderr
    printed = (tmp_path / "run.log").read_text()
    assert f"{url}/dashboard/" in printed
    assert stopped == 0
    delivered = re.search(
        r"delivered to the demo contact points: (\d+) of (\d+)", tour.stdout
    )
    assert delivered and delivered[1] == delivered[2] and int(delivered[2]) >= 4
    referrals = [
        line.split() for line in tour.stdout.splitlines() if line.startswith("  ")
    ]
    assert len(referrals) == int(delivered[2])
    acknowledged = [r for r in referrals if r[3] == "acknowledged"]
    assert acknowledged, tour.stdout
    assert all(" ".join(r[4:]) == "acknowledged within 48 h" for r in acknowledged)
    assert all(
        " ".join(r[4:]) == "awaiting acknowledgement"
        for r in referrals
        if r[3] == "delivered"
    )
