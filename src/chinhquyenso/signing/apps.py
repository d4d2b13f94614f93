from django.apps import AppConfig


class SigningConfig(AppConfig):
    name = "chinhquyenso.signing"
    label = "signing"
    verbose_name = "Chữ ký số"
