"""The data subject's pages, under /can-bo/du-lieu-ca-nhan/."""

from django.urls import path

from chinhquyenso.privacy import views

app_name = "privacy"

urlpatterns = [
    path("", views.find, name="find"),
    path("<int:pk>/", views.subject_page, name="subject"),
    path("<int:pk>/xuat.json", views.export, {"fmt": "json"}, name="export_json"),
    path("<int:pk>/xuat.pdf", views.export, {"fmt": "pdf"}, name="export_pdf"),
]
