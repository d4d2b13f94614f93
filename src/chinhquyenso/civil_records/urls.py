"""Officers' civil-records pages, under /can-bo/ho-tich/."""

from django.urls import path

from chinhquyenso.civil_records import views

app_name = "civil_records"

urlpatterns = [
    path("", views.index, name="index"),
    path("nhap/", views.import_file, name="import"),
    path("lo/<int:pk>/", views.batch_page, name="batch"),
    path("lo/<int:pk>/tien-do.json", views.batch_progress, name="batch_progress"),
    path("lo/<int:pk>/loi.xlsx", views.error_workbook, name="error_workbook"),
    path("ra-soat/", views.review_queue, name="review"),
    path("ra-soat/ca-quyen/", views.confirm_book, name="confirm_book"),
    path("<int:pk>/", views.record_page, name="record"),
    path("<int:pk>/ra-soat/", views.review, name="review_field"),
    path("<int:pk>/anh/", views.add_scan, name="add_scan"),
    path("<int:pk>/anh/<int:scan_id>/", views.scan_file, name="scan"),
    path("<int:pk>/trich-luc.pdf", views.extract, name="extract"),
]
