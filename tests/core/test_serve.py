"""`cqs serve` (docs/operations.md): gunicorn started as production needs it —
it binds again right after a `kill -9`, keeps answering through a graceful
reload (SIGHUP), logs paths without query strings, and refuses to start on
an unready installation. Each test runs real processes on a free port."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CITIZEN_ID = "089012345678"


def cqs_env(data_dir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CQS_", "DATABASE_URL", "REDIS_URL"))}
    env.update(
        CQS_DATA_DIR=str(data_dir),
        CQS_SITE_URL="https://dvc.example.gov.vn",
        DJANGO_SETTINGS_MODULE="chinhquyenso.settings",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def cqs(*args, env, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chinhquyenso.cli", *args], env=env, capture_output=True, text=True, **kwargs
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    cqs("migrate", "-v0", env=cqs_env(folder), check=True)
    return folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port: int, path: str = "/healthz") -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


class Server:
    def __init__(self, data_dir: Path, port: int, log: Path):
        self.port, self.log = port, log
        with log.open("ab") as out:
            # Its own process group, as under systemd: the test can kill master and workers together.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "chinhquyenso.cli", "serve", f"--bind=127.0.0.1:{port}", "--workers=2"],
                env=cqs_env(data_dir),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, seconds: float = 60) -> float:
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if get(self.port) == 200:
                    return time.monotonic() - started
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"no answer on port {self.port}:\n{self.log.read_text()}")

    def stop(self):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sig)
                self.process.wait(timeout=20)
                return
            except ProcessLookupError:
                return
            except subprocess.TimeoutExpired:
                continue


@pytest.mark.parametrize("victims", ["master and workers", "master only"])
def test_it_binds_again_right_after_kill_9(data_dir, tmp_path, victims):
    port, log = free_port(), tmp_path / "serve.log"
    first = Server(data_dir, port, log)
    try:
        first.wait_ready()
        # A client still connected when the server dies leaves sockets behind on the port.
        lingering = socket.create_connection(("127.0.0.1", port))
        if victims == "master only":
            os.kill(first.process.pid, signal.SIGKILL)  # the workers live on a while, holding the socket
        else:
            os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
        second = Server(data_dir, port, log)
        try:
            second.wait_ready(seconds=30)
            assert all(get(port) == 200 for _ in range(5))
            assert second.process.poll() is None
        finally:
            second.stop()
            lingering.close()
    finally:
        first.stop()


def test_a_graceful_reload_keeps_answering_and_logs_no_query_string(data_dir, tmp_path):
    port, log = free_port(), tmp_path / "serve.log"
    server = Server(data_dir, port, log)
    try:
        server.wait_ready()
        answers, stop = [], threading.Event()

        def load():
            while not stop.is_set():
                try:
                    answers.append(get(port, f"/healthz?cccd={CITIZEN_ID}"))
                except OSError as error:
                    answers.append(repr(error))

        clients = [threading.Thread(target=load) for _ in range(2)]
        for client in clients:
            client.start()
        time.sleep(1)
        os.kill(server.process.pid, signal.SIGHUP)  # what `systemctl reload cqs-web` sends
        time.sleep(4)
        stop.set()
        for client in clients:
            client.join()
        assert server.process.poll() is None
        text = log.read_text()
        assert "Hang up" in text
        assert len(answers) > 20 and set(answers) == {200}, [a for a in answers if a != 200][:5]
        # The access log names the path, never the query (it may carry a citizen's ID).
        assert '"GET /healthz HTTP/1.1" 200' in text
        assert CITIZEN_ID not in text
    finally:
        server.stop()


def test_it_refuses_to_start_an_unready_installation(tmp_path):
    fresh = cqs("serve", "--bind=127.0.0.1:1", env=cqs_env(tmp_path), timeout=120)
    assert fresh.returncode != 0 and "cqs migrate" in fresh.stderr
    no_site = cqs("serve", "--bind=127.0.0.1:1", env=cqs_env(tmp_path, CQS_SITE_URL=""), timeout=120)
    assert no_site.returncode != 0 and "cqs.E001" in no_site.stderr
