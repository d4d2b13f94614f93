"""Who is calling: signed request tokens per client subsystem (docs/data-bus.md, "Access").

(First version: no outgoing signature. Owner: registry and access work.)"""

from __future__ import annotations


def outgoing_headers(*, service_id: str, method: str, path: str, body: bytes) -> dict[str, str]:
    """Headers proving to a remote provider that this installation sends the call."""
    return {}
