"""Officers' pages of the open-data portal (/can-bo/du-lieu-mo/): drafting, resources, approval."""

from django.urls import path

from chinhquyenso.opendata import officer_views as views

app_name = "opendata_officer"

urlpatterns = [
    path("", views.dataset_list, name="list"),
    path("tao-moi/", views.create, name="create"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/sua/", views.edit, name="edit"),
    path("<int:pk>/tai-len/", views.upload, name="upload"),
    path("<int:pk>/tai-nguyen/<int:resource_id>/thay/", views.resource_replace, name="resource_replace"),
    path("<int:pk>/tai-nguyen/<int:resource_id>/xoa/", views.resource_delete, name="resource_delete"),
    path("<int:pk>/submit/", views.act, {"action": "submit"}, name="submit"),
    path("<int:pk>/approve/", views.act, {"action": "approve"}, name="approve"),
    path("<int:pk>/return/", views.act, {"action": "return"}, name="return"),
    path("<int:pk>/withdraw/", views.act, {"action": "withdraw"}, name="withdraw"),
]
