from django.urls import path

from chinhquyenso.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/sua/", views.edit, name="edit"),
    path("<int:pk>/ban-hanh/", views.issue, name="issue"),
    path("<int:pk>/tai.<str:fmt>", views.download, name="download"),
]
