"""How the local simulators of national systems run (VNeID, the payment platform, the SMS gateway,
Zalo; docs/national-systems.md): each is its own process, announces its address as the first line
of its output (`<NAME>_URL=http://…`) and serves until stopped. Tests and `cqs demo` start them
with `spawn`, on a free port, and read that line."""

from __future__ import annotations

import subprocess
import sys
from http.server import ThreadingHTTPServer

# Each simulator's port when started by hand (`python -m …`); tests and the demo ask for a free one.
DEFAULT_PORTS = {"ZALO_SIMULATOR": 8790, "OIDC_SIMULATOR": 8791, "SMS_SIMULATOR": 8792, "PAYMENT_SIMULATOR": 8793}


def serve_forever(server: ThreadingHTTPServer, name: str, url: str = "") -> None:
    """Print `<name>_URL=<url>` (the server's own address unless given), then serve until stopped."""
    # A keep-alive answer written in two pieces (headers, body) would otherwise wait ~40 ms for the
    # client's delayed ACK (Nagle's algorithm): every call to a simulator would look that slow.
    server.RequestHandlerClass.disable_nagle_algorithm = True
    host, port = server.server_address[:2]
    print(f"{name}_URL={url or f'http://{host}:{port}'}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def spawn(module: str, name: str, *args: str, port: int = 0) -> tuple[subprocess.Popen, str]:
    """Start `python -m <module> --port <port> <args>` (a free port by default): (the process, the URL
    it announced)."""
    command = [sys.executable, "-m", module, "--port", str(port), *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline().strip()
    prefix = f"{name}_URL="
    if not line.startswith(prefix):
        process.terminate()
        process.wait(timeout=10)
        raise RuntimeError(f"{module} did not start: {line!r}")
    return process, line[len(prefix) :]
