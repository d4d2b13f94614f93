"""Farmers' pages (mounted at /sau-benh/): photo identification, warnings' subscription and unsubscribe."""

from chinhquyenso.pests.views import bulletins, identify

app_name = "pests_public"

urlpatterns = [
    *identify.public_urls,
    *bulletins.public_urls,
]
