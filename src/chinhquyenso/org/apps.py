from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "chinhquyenso.org"
    label = "org"
    verbose_name = "Cơ quan, đơn vị"
