from django.shortcuts import render


def csrf_failure(request, reason=""):
    """A form sent without a valid CSRF token (expired page, another site): say so in Vietnamese."""
    return render(request, "403.html", status=403)
