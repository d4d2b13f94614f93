from django.urls import path

from chinhquyenso.backoffice import account_views, assistant_views, group_views, notice_views, payment_views, views

app_name = "backoffice"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("tiep-nhan/", views.counter, name="counter"),
    path("so-theo-doi/", views.register, name="register"),
    path("thanh-toan/doi-soat/", payment_views.reconciliation, name="payment_reconciliation"),
    path("thanh-toan/<str:order_ref>/hoan-tra/", payment_views.refund, name="payment_refund"),
    path("thong-bao/", views.messages_page, name="messages"),
    path("thong-bao/da-doc/", views.messages_read, name="messages_read"),
    path("thong-bao/<int:pk>/gui-lai/", views.message_retry, name="message_retry"),
    path("thong-bao/<int:pk>/mo/", notice_views.notice_open, name="notice_open"),
    path("tro-ly/tim-kiem/", assistant_views.search_debug, name="assistant_search"),
    path("tro-ly/cau-hoi-chua-tra-loi/", assistant_views.unanswered, name="assistant_unanswered"),
    path("tro-ly/cau-hoi-chua-tra-loi/<int:pk>/", assistant_views.unanswered_act, name="assistant_unanswered_act"),
    path("tai-khoan/", account_views.account_list, name="accounts"),
    path("tai-khoan/them/", account_views.account_register, name="account_register"),
    path("tai-khoan/<int:pk>/dat-lai-mat-khau/", account_views.account_reset, name="account_reset"),
    path("dat-mat-khau/", account_views.set_password, name="set_password"),
    path("dat-mat-khau/<str:secret>/", account_views.open_password_link, name="open_password_link"),
    path("ho-so/<str:code>/", views.dossier_page, name="dossier"),
    path("ho-so/<str:code>/mau-<str:form>.pdf", views.print_form, name="print"),
    path("ho-so/<str:code>/tep/<str:sha256>/", views.preview, name="preview"),
    path("ho-so/<str:code>/lien-thong/<int:part_id>/gui-lai/", group_views.retry_part, name="group_part_retry"),
    path("ho-so/<str:code>/<str:action>/", views.act, name="act"),
]
