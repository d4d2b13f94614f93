from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "chinhquyenso.exchange"
    label = "exchange"
    verbose_name = "Trục tích hợp: hàng đợi gửi, kết nối hệ thống quốc gia"

    def ready(self):
        from chinhquyenso.core.registry import JOBS, Job

        JOBS.register("deliver_outbox", Job("chinhquyenso.exchange.tasks.deliver_outbox", 60))
