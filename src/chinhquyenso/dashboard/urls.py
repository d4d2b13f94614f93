from django.urls import path

from chinhquyenso.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("trinh-chieu/", views.wall, name="wall"),
    path("qua-han/", views.overdue, name="overdue_all"),
    path("co-quan/<str:code>/", views.agency, name="agency"),
    path("co-quan/<str:code>/qua-han/", views.overdue, name="overdue"),
    path("co-quan/<str:code>/thu-tuc/<str:procedure_code>/", views.procedure, name="procedure"),
]
