from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "chinhquyenso.privacy"
    verbose_name = "Dữ liệu cá nhân"
