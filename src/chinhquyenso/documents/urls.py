"""Officers' document pages, under /can-bo/van-ban/."""

from django.urls import path

from chinhquyenso.documents import views
from chinhquyenso.documents.models import Direction

app_name = "documents"

urlpatterns = [
    path("", views.index, name="index"),
    path("soan-thao/", views.new_draft, name="new"),
    path("vao-so/", views.register_incoming, name="register_incoming"),
    path("so-di/", views.register, {"direction": Direction.OUTGOING}, name="outgoing_register"),
    path("so-den/", views.register, {"direction": Direction.INCOMING}, name="incoming_register"),
    path("tim-kiem/", views.search, name="search"),
    path("<int:pk>/", views.document_page, name="document"),
    path("<int:pk>/tep/", views.download, name="file"),
    path("<int:pk>/phien-ban/<int:version>/", views.download, name="version_file"),
    path("<int:pk>/dinh-kem/<int:attachment_id>/", views.attachment_file, name="attachment"),
    path("<int:pk>/<str:action>/", views.act, name="act"),
]
