from django.urls import path

from chinhquyenso.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("co-quan/<str:code>/", views.agency, name="agency"),
    path("co-quan/<str:code>/qua-han/", views.overdue, name="overdue"),
    path("co-quan/<str:code>/thu-tuc/<str:procedure_code>/", views.procedure, name="procedure"),
]
