from django.contrib import admin
from django.urls import path

from chinhquyenso.api import api
from chinhquyenso.procedures import views as procedure_views

admin.site.site_header = "Chính quyền số — Quản trị"
admin.site.site_title = "Chính quyền số"

urlpatterns = [
    path("", procedure_views.catalog, name="catalog"),
    path("quan-tri/", admin.site.urls),
    path("api/", api.urls),
]
