"""Security headers every answer carries unless its view chose otherwise."""

import functools

from chinhquyenso.core import maps


@functools.lru_cache(maxsize=4)
def content_security_policy(tile_source: str = "") -> str:
    """Pages run only the platform's own scripts and styles (no inline script or style
    attribute), draw images from the platform or data: URIs (charts) — and from the map's tile
    server when one is configured (`tile_source`, core.maps.tile_source: its origin only) — and
    may not be framed or post elsewhere."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: {tile_source}".strip(),
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


# The policy without a tile server (maps offline).
CONTENT_SECURITY_POLICY = content_security_policy()


class SecurityHeaders:
    """A Content-Security-Policy on every HTML page, and `Cache-Control: no-store` on every dynamic
    answer whose view set no caching of its own: pages and API answers carry personal data (a
    dossier, an applicant's name), which a shared or back-button cache must not keep. Views that
    publish something cacheable (a public photo, the dashboard's open figures) say so themselves.

    Static files never reach this middleware: WhiteNoise answers them earlier with their own headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", content_security_policy(maps.tile_source()))
        if "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        return response
