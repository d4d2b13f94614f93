from django.urls import path

from chinhquyenso.lris import views

app_name = "lris"

urlpatterns = [
    path("", views.index, name="index"),
    path("giao/", views.assign, name="assign"),
    path("cho-duyet/", views.review_list, name="review_list"),
    path("tinh-hinh-nop/", views.compliance_page, name="compliance"),
    path("<int:pk>/", views.assignment_page, name="assignment"),
    path("<int:pk>/mau-excel.xlsx", views.template_xlsx, name="template"),
    path("<int:pk>/tai-len/", views.upload, name="upload"),
    path("<int:pk>/duyet/", views.review, name="review"),
]
