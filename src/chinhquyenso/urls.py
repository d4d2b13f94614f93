from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path

from chinhquyenso.api import api
from chinhquyenso.core.views import healthz, readyz
from chinhquyenso.exchange.bus import log_views as bus_log
from chinhquyenso.exchange.bus import metrics as bus_metrics
from chinhquyenso.exchange.bus import monitor_views as bus_monitor
from chinhquyenso.exchange.bus import views as bus_views

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that link none (the Django admin's own pages).
    path("favicon.ico", lambda request: redirect(static("cqs/favicon.ico")), name="favicon"),
    path("readyz", readyz, name="readyz"),
    # Prometheus (exchange.bus.metrics): a bearer token or a signed-in province administrator; 404 otherwise.
    path("metrics", bus_metrics.metrics_view, name="metrics"),
    path("", include("chinhquyenso.feedback.urls")),
    path("", include("chinhquyenso.portal.urls")),
    path("", include("chinhquyenso.assistant.urls")),
    path("can-bo/bao-cao-so-lieu/", include("chinhquyenso.lris.urls")),
    path("can-bo/bao-cao/", include("chinhquyenso.reports.urls")),
    path("can-bo/ho-tich/", include("chinhquyenso.civil_records.urls")),
    path("can-bo/van-ban/", include("chinhquyenso.documents.urls")),
    path("xac-thuc/", include("chinhquyenso.signing.urls")),
    path("can-bo/du-lieu-mo/", include("chinhquyenso.opendata.officer_urls")),
    path("du-lieu-mo/", include("chinhquyenso.opendata.urls")),
    path("", include("chinhquyenso.opendata.dcat_urls")),  # /catalog.ttl, /dataset/<name>.ttl: DCAT-AP
    path("can-bo/chi-muc-ca-nhan/", include("chinhquyenso.persons.urls")),
    path("can-bo/sau-benh/", include("chinhquyenso.pests.urls")),
    path("sau-benh/", include("chinhquyenso.pests.public_urls")),
    path("can-bo/du-lieu-ca-nhan/", include("chinhquyenso.privacy.urls")),
    path("can-bo/truc-lien-thong/giam-sat/", bus_monitor.monitor, name="bus_monitor"),
    path("can-bo/truc-lien-thong/nhat-ky/", include(bus_log.urls)),  # auditors (exchange.bus.log_views)
    path("can-bo/", include("chinhquyenso.backoffice.urls")),
    path("dieu-hanh/", include("chinhquyenso.dashboard.urls")),
    path("quan-tri/", admin.site.urls),
    # The open-data portal's CKAN Action API (opendata.ckan), before the platform's own API under /api/.
    path("api/3/action/", include("chinhquyenso.opendata.ckan_urls")),
    path("api/action/", include("chinhquyenso.opendata.ckan_urls")),
    path("api/", api.urls),
    # Messaging platforms' webhooks (Zalo OA), answering in the platform's shape, not the API's.
    path("kenh/", include("chinhquyenso.assistant.channels.urls")),
    path("open311/v2/", include("chinhquyenso.feedback.open311_urls")),
    # The data bus (LGSP): other systems call services through it, signed (exchange.bus.views).
    path("r1/<path:address>", bus_views.endpoint, name="bus-endpoint"),
]

# Django's own errors in the format of the path they answer (core.middleware.error_response):
# JSON under /api/, Open311's error list under /open311/, the Vietnamese page elsewhere.
handler400 = "chinhquyenso.core.middleware.bad_request"
handler403 = "chinhquyenso.core.middleware.permission_denied"
handler404 = "chinhquyenso.core.middleware.page_not_found"
handler500 = "chinhquyenso.core.middleware.server_error"
