from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "chinhquyenso.backoffice"
    verbose_name = "Một cửa điện tử (cán bộ)"
