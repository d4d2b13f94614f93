"""The officers' pages of the master person index, mounted at /can-bo/chi-muc-ca-nhan/ (persons.views).
No URL holds personal data: persons are named by their index code, records and pairs by their ids,
searches by a session token (core.privacy.private_search)."""

from django.urls import path

from chinhquyenso.persons import views

app_name = "persons"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("chay-so-khop/", views.run_linking, name="run"),
    path("nhap/", views.import_file, name="import"),
    path("nhap/<int:pk>/", views.batch_page, name="batch"),
    path("doi-soat/", views.review_queue, name="queue"),
    path("doi-soat/<int:pk>/", views.pair_page, name="pair"),
    path("doi-soat/<int:pk>/quyet-dinh/", views.decide, name="decide"),
    path("nguoi/<str:code>/", views.person_page, name="person"),
    path("nguoi/<str:code>/tach/", views.split, name="split"),
    path("thay-doi/<int:change_id>/hoan-tac/", views.unmerge, name="unmerge"),
    path("tra-cuu/", views.search, name="search"),
    path("bao-cao/", views.report, name="report"),
    path("bao-cao/tai-ve.<str:fmt>", views.report_export, name="report_export"),
]
