"""Feedback pages: the citizens' under /phan-anh/, the officers' under
/can-bo/phan-anh/ (the Open311 API has its own, open311_urls)."""

from django.urls import path

from chinhquyenso.feedback import views

app_name = "feedback"

urlpatterns = [
    path("phan-anh/", views.public_list, name="list"),
    path("phan-anh/ban-do/", views.public_map, name="map"),
    path("phan-anh/gui/", views.submit, name="submit"),
    path("phan-anh/gui/ma-xac-minh/", views.send_code, name="send_code"),
    path("phan-anh/gui/doi-so-dien-thoai/", views.change_phone, name="change_phone"),
    path("phan-anh/cua-toi/", views.my_reports, name="mine"),
    path("phan-anh/cua-toi/<str:code>/", views.own_report, name="own"),
    path("phan-anh/theo-doi/<str:token>/", views.follow, name="follow"),
    path("phan-anh/anh/<int:photo_id>/", views.photo, name="photo"),
    path("phan-anh/<str:code>/", views.public_report, name="report"),
    path("can-bo/phan-anh/", views.queue, name="queue"),
    path("can-bo/phan-anh/thu-gui-loi/<int:message_id>/gui-lai/", views.retry_message, name="retry_message"),
    path("can-bo/phan-anh/<str:code>/", views.officer_report, name="officer_report"),
    path("can-bo/phan-anh/<str:code>/<str:action>/", views.act, name="act"),
]
