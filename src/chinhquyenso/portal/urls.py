from django.urls import path

from chinhquyenso.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("thu-tuc/", views.search, name="search"),
    path("thu-tuc/<str:code>/", views.procedure_detail, name="procedure"),
    path("thu-tuc/<str:code>/nop-truc-tuyen/", views.start_submission, name="start_submission"),
    path("nop-ho-so/<int:draft_id>/nguoi-nop/", views.draft_applicant, name="draft_applicant"),
    path("nop-ho-so/<int:draft_id>/giay-to/", views.draft_components, name="draft_components"),
    path("nop-ho-so/<int:draft_id>/xem-lai/", views.draft_review, name="draft_review"),
    path("ho-so/<str:code>/bien-nhan/", views.receipt, name="receipt"),
    path("ho-so/<str:code>/bien-nhan.pdf", views.receipt_pdf, name="receipt_pdf"),
    path("tra-cuu/", views.track, name="track"),
    path("ca-nhan/", views.my_dossiers, name="my_dossiers"),
    path("ca-nhan/kho-du-lieu/", views.edata, name="edata"),
    path("tep/<str:sha256>/", views.stored_file, name="file"),
    path("dang-nhap/", views.login_view, name="login"),
    path("dang-xuat/", views.logout_view, name="logout"),
]
