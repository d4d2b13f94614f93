from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "chinhquyenso.accounts"
    label = "accounts"
    verbose_name = "Tài khoản"

    def ready(self):
        from chinhquyenso.accounts import services
        from chinhquyenso.core import events

        events.subscribe("AgencyReorganized", services.move_memberships)
