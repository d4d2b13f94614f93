"""Public signature verification, under /xac-thuc/."""

from django.urls import path

from chinhquyenso.signing import views

app_name = "signing"

urlpatterns = [
    path("", views.verify_page, name="verify"),
]
