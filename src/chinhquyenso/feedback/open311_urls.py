"""/open311/v2/: Open311 GeoReport v2 (feedback/open311.py)."""

from django.urls import path, re_path
from django.views.generic import RedirectView

from chinhquyenso.feedback import open311

app_name = "open311"
FMT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    path("", RedirectView.as_view(url="discovery.json"), name="root"),
    re_path(r"^discovery" + FMT, open311.discovery, name="discovery"),
    re_path(r"^services" + FMT, open311.service_list, name="services"),
    re_path(r"^services/(?P<code>[-\w]+)" + FMT, open311.service_definition, name="service"),
    re_path(r"^requests" + FMT, open311.service_requests, name="requests"),
    re_path(r"^requests/(?P<request_id>[^/]+?)" + FMT, open311.service_request, name="request"),
    re_path(r"^tokens/(?P<token>[^/]+?)" + FMT, open311.token_lookup, name="token"),
    # Anything else under /open311/v2/ (a wrong extension, a typo): 404 in the spec's error format.
    re_path(r"^(?P<path>.+)$", open311.not_found),
]
