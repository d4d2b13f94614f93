from django.contrib import admin
from django.urls import path

from chinhquyenso.api import api

urlpatterns = [
    path("quan-tri/", admin.site.urls),
    path("api/", api.urls),
]
