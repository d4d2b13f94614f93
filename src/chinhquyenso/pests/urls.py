"""The officers' pages (mounted at /can-bo/sau-benh/): each views module lists its own."""

from chinhquyenso.pests.views import bulletins, catalog, identify, surveillance, surveys

app_name = "pests"

urlpatterns = [
    *catalog.officer_urls,
    *surveys.officer_urls,
    *surveillance.officer_urls,
    *bulletins.officer_urls,
    *identify.officer_urls,
]
