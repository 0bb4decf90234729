"""Intake benchmark: signed reports per second against the bare JSON endpoint.

It measures the whole intake path under production settings: gunicorn with
`deploy/gunicorn.conf.py` in front of a fresh PostgreSQL database holding the
demo directory and rule set. Every request is a distinct `POST /v1/reports`,
signed in advance by one of the five demo hotlines with its own `jti` and its
own report `reference`, so each one files a new case (signature check, replay
check, schema, routing, sealing, one transaction). `wrk` drives them through
`wrk_slices.lua`, which gives each of its threads a slice of its own, so no
token is sent twice. The same server's `GET /livez` is then driven for the
same duration and connections; the ratio of the two rates shows what the
intake costs beyond the framework and HTTP themselves. With `--rounds N` the
two runs alternate N times and the median ratio counts, which evens out other
load on a shared machine.

A run with any response outside 2xx, or any socket error, is not valid and
says so. Run it with `make bench` or `python -m tests.bench.intake_bench`;
`--help` lists the options. It installs nothing: `wrk` must be on the PATH.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from contracts.signed_calls import new_signing_key, public_key_pem, sign_call
from router.config import load_settings
from router.content_keys import write_content_key
from router.demo import DEMO_KID, demo_directory, synthetic_report
from router.directory import store_directory
from router.persistence.db import create_database_engine
from router.persistence.migrate import upgrade
from router.signer import write_signing_key

ROOT = Path(__file__).resolve().parents[2]
LUA_SCRIPT = Path(__file__).with_name("wrk_slices.lua")
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
HOTLINES = ("hl-at-demo", "hl-de-demo", "hl-nl-demo", "hl-fr-demo", "hl-gb-demo")
GOAL_PERCENT = 40.0
TOKEN_LIFETIME = 300
BENCH_KID = "bench-1"
INTAKE = "POST /v1/reports"
BARE = "GET /livez"


@dataclass(frozen=True)
class Result:
    endpoint: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    socket_errors: int
    exhausted_threads: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def errors(self) -> int:
        return self.non2xx + self.socket_errors


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.intake_bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--wrk-threads", type=int, default=2, help="wrk threads (default 2)"
    )
    parser.add_argument("--workers", type=int, help="gunicorn workers")
    parser.add_argument("--threads", type=int, help="gunicorn threads per worker")
    parser.add_argument(
        "--alg",
        choices=("EdDSA", "ES256"),
        default="EdDSA",
        help="the hotlines' signing algorithm (EdDSA: the demo keys)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="alternate intake and bare runs this many times; the median counts",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=None,
        help="pre-signed reports per round (default: 2,500 per second of run)",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a database to connect to for creating the benchmark's own",
    )

    options = parser.parse_args(argv)
    # wrk refuses more threads than connections.
    options.wrk_threads = min(options.wrk_threads, options.connections)

    return options


def main(argv: list[str] | None = None) -> int:
    options = parse_arguments(argv)
    if shutil.which("wrk") is None:
        print(
            "wrk is not installed: run `apt-get install -y wrk` (or `make bench`).",
            file=sys.stderr,
        )
        return 2
    total = options.requests or 2_500 * (options.duration + 2)
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        database_url = stack.enter_context(fresh_database(options.postgres))
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        instance_dir = workdir / "instance"
        keys = load_directory(database_url, instance_dir, options.alg)
        server = stack.enter_context(
            gunicorn(options, database_url, instance_dir, port, workdir / "log")
        )
        wait_until_live(base_url, server)
        print(f"signing {total * options.rounds} reports ...", flush=True)
        warm_up = write_slices(workdir / "warm", keys, 400, base_url, options)
        timed = [
            write_slices(workdir / f"intake{n}", keys, total, base_url, options)
            for n in range(options.rounds)
        ]
        run_wrk(base_url, options, 2, warm_up, "warm-up")
        run_wrk(base_url, options, 2, None, "warm-up")
        # Alternating the two spreads any other load on the machine over both.
        rounds = [
            (
                run_wrk(base_url, options, options.duration, prefix, INTAKE),
                run_wrk(base_url, options, options.duration, None, BARE),
            )
            for prefix in timed
        ]
        print_report(options, rounds)

        return 0 if all(r.errors == 0 for pair in rounds for r in pair) else 1


@contextlib.contextmanager
def fresh_database(admin_url: str):
    """A new, empty database, dropped again on the way out."""
    name = f"rr_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def load_directory(database_url: str, instance_dir: Path, alg: str) -> dict:
    """Migrate, load the demo directory, and return each hotline's signing key.

    With ES256 the hotlines get fresh P-256 keys, registered beside their
    demo EdDSA keys.
    """
    document, parties = demo_directory(instance_dir, "http://127.0.0.1:9")
    keys = {hotline: (DEMO_KID, parties[hotline].signing_key) for hotline in HOTLINES}
    if alg == "ES256":
        keys = {hotline: (BENCH_KID, new_signing_key("ES256")) for hotline in HOTLINES}
        for entry in document["hotlines"]:
            if entry["id"] in keys:
                entry["keys"].append(_key_entry(*keys[entry["id"]]))
    engine = create_database_engine(database_url)
    upgrade(engine)
    with engine.begin() as connection:
        store_directory(connection, document, datetime.now(UTC))
    engine.dispose()

    return keys


def _key_entry(kid: str, private_key) -> dict:
    return {"kid": kid, "alg": "ES256", "public_key": public_key_pem(private_key)}


@contextlib.contextmanager
def gunicorn(options, database_url, instance_dir: Path, port: int, log: Path):
    settings = load_settings({"ROUTER_INSTANCE_DIR": str(instance_dir)})
    write_signing_key(settings.signing_key_file)
    write_content_key(settings.content_keys_file)
    env = dict(os.environ)
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        DATABASE_URL=database_url,
        ROUTER_INSTANCE_DIR=str(instance_dir),
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        LOG_LEVEL="WARNING",
        BIND=f"127.0.0.1:{port}",
    )
    if options.workers:
        env["WEB_WORKERS"] = str(options.workers)
    if options.threads:
        env["WEB_THREADS"] = str(options.threads)
    command = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF)]
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*command, "router.wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield server
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.returncode not in (0, -15):
            print(log.read_text()[-3000:], file=sys.stderr)


def wait_until_live(base_url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{base_url}/livez", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer /livez within 60 s")


def write_slices(prefix: Path, keys: dict, count: int, base_url: str, options):
    """Sign `count` distinct reports into one file per wrk thread."""
    rng = random.Random()
    now = datetime.now(UTC)
    url = f"{base_url}/v1/reports"
    audience = load_settings().router_id
    stamp = f"{prefix.name}-{uuid.uuid4().hex[:8]}"
    slices = [
        prefix.with_name(f"{prefix.name}.{n}").open("w")
        for n in range(options.wrk_threads)
    ]
    with contextlib.ExitStack() as stack:
        for handle in slices:
            stack.enter_context(handle)
        for number in range(count):
            hotline = HOTLINES[number % len(HOTLINES)]
            kid, private_key = keys[hotline]
            report = synthetic_report(rng, f"BENCH-{stamp}-{number}", now)
            body = json.dumps(report, separators=(",", ":")).encode()
            token = sign_call(
                private_key,
                kid=kid,
                issuer=hotline,
                audience=audience,
                method="POST",
                url=url,
                body=body,
                now=now,
                lifetime_seconds=TOKEN_LIFETIME,
            )
            slices[number % len(slices)].write(f"{token}\t{body.decode()}\n")

    return prefix


def run_wrk(base_url, options, seconds: int, prefix: Path | None, endpoint: str):
    command = [
        "wrk",
        f"--threads={options.wrk_threads}",
        f"--connections={options.connections}",
        f"--duration={seconds}s",
        "--latency",
        f"--script={LUA_SCRIPT}",
        base_url,
    ]
    if prefix is not None:
        command += ["--", str(prefix)]
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in finished.stdout.splitlines() if line.startswith("RESULT")]
    if finished.returncode != 0 or not lines:
        raise SystemExit(f"wrk failed:\n{finished.stdout}\n{finished.stderr}")
    found = json.loads(lines[-1].removeprefix("RESULT "))
    result = Result(
        endpoint=endpoint,
        requests=found["requests"],
        seconds=found["duration_us"] / 1e6,
        p50_ms=found["p50_us"] / 1e3,
        p99_ms=found["p99_us"] / 1e3,
        non2xx=found["non2xx"],
        socket_errors=found["socket_errors"],
        exhausted_threads=found["exhausted_threads"],
    )
    if result.exhausted_threads:
        print(f"{endpoint}: ran out of pre-signed reports; raise --requests")
    if result.errors:
        print(f"{endpoint}: {result.errors} errors; this run is not valid")

    return result


def print_report(options, rounds: list[tuple[Result, Result]]) -> None:
    workers = options.workers or "conf"
    threads = options.threads or "conf"
    print()
    print(
        f"{options.duration} s, {options.connections} connections, "
        f"gunicorn workers={workers} threads={threads}, hotline keys {options.alg}"
    )
    print(f"{'endpoint':<18} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8} errors")
    ratios = []
    for intake, bare in rounds:
        for result in (intake, bare):
            print(
                f"{result.endpoint:<18} {result.rate:>11.1f} {result.p50_ms:>8.2f} "
                f"{result.p99_ms:>8.2f} {result.errors:>6}"
            )
        ratios.append(100 * intake.rate / bare.rate)
    ratio = statistics.median(ratios)
    verdict = "met" if ratio >= GOAL_PERCENT else "not met"
    each = ", ".join(f"{r:.1f}%" for r in ratios)
    label = "intake / bare" if len(ratios) == 1 else f"median of {each}"
    print(f"{label}: {ratio:.1f}% (goal {GOAL_PERCENT:.0f}%: {verdict})")
    if any(result.errors for pair in rounds for result in pair):
        print("NOT VALID: some requests failed")


if __name__ == "__main__":
    sys.exit(main())
