from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "chinhquyenso.accounts"
    label = "accounts"
    verbose_name = "Tài khoản"

    def ready(self):
        from chinhquyenso.accounts import services
        from chinhquyenso.core import events

        events.subscribe("AgencyReorganized", services.move_memberships)

        # The names of the codes this app writes, for the administration's audit log and outbox.
        from chinhquyenso.accounts import labels as code_labels
        from chinhquyenso.core.registry import AUDIT_ACTIONS, MESSAGE_KINDS

        AUDIT_ACTIONS.register("accounts", code_labels.AUDIT_ACTIONS)
        MESSAGE_KINDS.register("accounts", code_labels.MESSAGE_KINDS)
