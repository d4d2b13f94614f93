"""Public pages of the open-data portal (/du-lieu-mo/): search with facets, dataset pages, publishing figures.

The fixed pages come before "<name>/": a dataset may not be named "cong-bo" or "huong-dan-api"
(services.datasets reserves them), else its page would be shadowed."""

from django.urls import path

from chinhquyenso.opendata import views

app_name = "opendata"

urlpatterns = [
    path("", views.search, name="search"),
    path("cong-bo/", views.figures, name="figures"),
    path("huong-dan-api/", views.api_help, name="api_help"),
    path("<slug:name>/", views.dataset_page, name="dataset"),
    path("<slug:name>/lich-su/", views.history, name="history"),
    path("<slug:name>/tai-nguyen/<int:resource_id>/", views.download, name="download"),
]
