from django.urls import path

from chinhquyenso.backoffice import assistant_views, views

app_name = "backoffice"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("tiep-nhan/", views.counter, name="counter"),
    path("so-theo-doi/", views.register, name="register"),
    path("thong-bao/", views.messages_page, name="messages"),
    path("thong-bao/da-doc/", views.messages_read, name="messages_read"),
    path("thong-bao/<int:pk>/gui-lai/", views.message_retry, name="message_retry"),
    path("tro-ly/tim-kiem/", assistant_views.search_debug, name="assistant_search"),
    path("tro-ly/cau-hoi-chua-tra-loi/", assistant_views.unanswered, name="assistant_unanswered"),
    path("tro-ly/cau-hoi-chua-tra-loi/<int:pk>/", assistant_views.unanswered_act, name="assistant_unanswered_act"),
    path("ho-so/<str:code>/", views.dossier_page, name="dossier"),
    path("ho-so/<str:code>/mau-<str:form>.pdf", views.print_form, name="print"),
    path("ho-so/<str:code>/<str:action>/", views.act, name="act"),
]
