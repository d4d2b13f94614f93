from django.urls import path

from chinhquyenso.assistant.channels import views

app_name = "channels"

urlpatterns = [
    path("zalo/webhook/", views.zalo_webhook, name="zalo_webhook"),
]
