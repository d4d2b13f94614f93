from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "chinhquyenso.exchange"
    label = "exchange"
    verbose_name = "Trục tích hợp, kết nối hệ thống quốc gia"
