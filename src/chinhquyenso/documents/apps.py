from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "chinhquyenso.documents"
    label = "documents"
    verbose_name = "Quản lý văn bản và điều hành"
