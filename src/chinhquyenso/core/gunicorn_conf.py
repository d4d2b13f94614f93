"""Gunicorn hooks for `cqs serve` (loaded with `--config python:chinhquyenso.core.gunicorn_conf`;
every other setting is a command-line option built in core/management/commands/serve.py)."""

import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1


def post_fork(server, worker):
    """A worker dies with its master. Without this, a master killed with `kill -9` leaves its workers
    holding the listening socket until they notice (up to half the timeout), and the next start
    cannot bind the port ("Address already in use") — the restart fails. Linux only; elsewhere
    workers still exit on their own when they notice the master is gone."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != server.pid:  # the master died between fork and prctl
        os._exit(1)
