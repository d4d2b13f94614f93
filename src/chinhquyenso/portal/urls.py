from django.urls import path

from chinhquyenso.accounts import oidc_views
from chinhquyenso.portal import (
    authenticity_views,
    form_views,
    group_views,
    notification_views,
    payment_views,
    views,
)

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("thu-tuc/", views.search, name="search"),
    path("thu-tuc/<str:code>/", views.procedure_detail, name="procedure"),
    path("thu-tuc/<str:code>/nop-truc-tuyen/", views.start_submission, name="start_submission"),
    path("thu-tuc/<str:code>/to-khai.pdf", form_views.blank_form_pdf, name="blank_form"),
    path("nop-ho-so/<int:draft_id>/nguoi-nop/", views.draft_applicant, name="draft_applicant"),
    path("nop-ho-so/<int:draft_id>/to-khai/", form_views.draft_form, name="draft_form"),
    path("nop-ho-so/<int:draft_id>/giay-to/", views.draft_components, name="draft_components"),
    path("nop-ho-so/<int:draft_id>/xem-lai/", views.draft_review, name="draft_review"),
    path("ho-so/<str:code>/bien-nhan/", views.receipt, name="receipt"),
    path("ho-so/<str:code>/bien-nhan.pdf", views.receipt_pdf, name="receipt_pdf"),
    path("ho-so/<str:code>/thanh-toan/", payment_views.pay, name="pay"),
    path("thanh-toan/ket-qua/", payment_views.payment_callback, name="payment_callback"),
    path("thanh-toan/<str:order_ref>/", payment_views.payment_return, name="payment_return"),
    path("thanh-toan/<str:order_ref>/bien-lai.pdf", payment_views.payment_receipt, name="payment_receipt"),
    path("tra-cuu/", views.track, name="track"),
    path("lien-thong/", group_views.groups, name="groups"),
    path("lien-thong/<slug:group_code>/nop/", group_views.apply, name="group_apply"),
    path("ho-so-lien-thong/<str:code>/", group_views.timeline, name="group_timeline"),
    path("ca-nhan/", views.my_dossiers, name="my_dossiers"),
    path("ca-nhan/thong-bao/", notification_views.notice_list, name="notices"),
    path("ca-nhan/thong-bao/da-doc/", notification_views.notices_read, name="notices_read"),
    path("ca-nhan/thong-bao/cai-dat/", notification_views.preferences, name="notice_preferences"),
    path("ca-nhan/thong-bao/<int:pk>/", notification_views.notice_open, name="notice_open"),
    path("ca-nhan/kho-du-lieu/", views.edata, name="edata"),
    path("tep/<str:sha256>/", views.stored_file, name="file"),
    # The QR code on a signed electronic result opens this (dossiers.results); /xac-thuc/ itself is signing's.
    path("xac-thuc/ket-qua/<str:code>/", authenticity_views.result_authenticity, name="result_authenticity"),
    path("dang-nhap/", views.login_view, name="login"),
    path("dang-xuat/", views.logout_view, name="logout"),
    path("dang-nhap/oidc/", oidc_views.start, name="oidc_start"),
    path("dang-nhap/oidc/callback/", oidc_views.callback, name="oidc_callback"),
]
