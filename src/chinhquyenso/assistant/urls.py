from django.urls import path

from chinhquyenso.assistant import views

app_name = "assistant"

urlpatterns = [
    path("tro-ly/", views.chat, name="chat"),
    path("tro-ly/gui-cau-hoi/", views.send, name="send"),
]
