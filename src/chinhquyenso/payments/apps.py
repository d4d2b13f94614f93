from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "chinhquyenso.payments"
    label = "payments"
    verbose_name = "Thanh toán trực tuyến phí, lệ phí"

    def ready(self):
        # The names of the codes this app writes, for the administration's audit log.
        from chinhquyenso.core.registry import AUDIT_ACTIONS
        from chinhquyenso.payments import labels as code_labels

        AUDIT_ACTIONS.register("payments", code_labels.AUDIT_ACTIONS)
