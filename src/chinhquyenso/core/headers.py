"""Security headers every answer carries unless its view chose otherwise."""

# Pages run only the platform's own scripts and styles (no inline script or style attribute),
# draw images from the platform or data: URIs (charts), and may not be framed or post elsewhere.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


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
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        return response
