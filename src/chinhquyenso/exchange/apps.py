from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "chinhquyenso.exchange"
    label = "exchange"
    verbose_name = "Trục tích hợp: hàng đợi gửi, kết nối hệ thống quốc gia"

    def ready(self):
        from chinhquyenso.core.registry import JOBS, Job

        JOBS.register("deliver_outbox", Job("chinhquyenso.exchange.tasks.deliver_outbox", 60))

        # The names of the codes this app writes, for the administration's audit log and outbox.
        from chinhquyenso.core.registry import AUDIT_ACTIONS
        from chinhquyenso.exchange import labels as code_labels

        AUDIT_ACTIONS.register("exchange", code_labels.AUDIT_ACTIONS)
