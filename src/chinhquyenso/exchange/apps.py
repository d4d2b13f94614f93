from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "chinhquyenso.exchange"
    label = "exchange"
    verbose_name = "Trục tích hợp: hàng đợi gửi, kết nối hệ thống quốc gia"

    def ready(self):
        from chinhquyenso.core.registry import JOBS, Job

        JOBS.register("deliver_outbox", Job("chinhquyenso.exchange.tasks.deliver_outbox", 60))
        JOBS.register("purge_bus_nonces", Job("chinhquyenso.exchange.bus.security.purge_nonces_job", 3600))
        # The message log: seal new entries every minute; archive those past retention monthly.
        JOBS.register("bus_log_seal", Job("chinhquyenso.exchange.bus.log_tasks.seal_bus_log", 60))
        JOBS.register("bus_log_archive", Job("chinhquyenso.exchange.bus.log_tasks.archive_bus_log", 30 * 24 * 3600))

        # The bus registry's per-process cache is rebuilt after any change of its rows (the admin,
        # the loader, a service); other processes see it within BUS_REGISTRY_CHECK_SECONDS.
        from django.db.models.signals import post_delete, post_save

        from chinhquyenso.exchange.bus import registry as bus_registry

        for model in bus_registry.REGISTRY_MODELS:
            post_save.connect(bus_registry.changed, sender=model, dispatch_uid=f"bus-registry-{model.__name__}-save")
            post_delete.connect(bus_registry.changed, sender=model, dispatch_uid=f"bus-registry-{model.__name__}-del")

        # The dashboard's "Trục liên thông" section: live figures, not indicators (exchange.bus.selectors).
        from chinhquyenso.core.registry import DASHBOARD_TILES, TileSection
        from chinhquyenso.exchange.bus import selectors as bus_selectors

        DASHBOARD_TILES.register(
            "bus", TileSection(title="Trục liên thông", tiles=(), live=bus_selectors.dashboard_tiles)
        )

        # The names of the codes this app writes, for the administration's audit log and outbox.
        from chinhquyenso.core.registry import AUDIT_ACTIONS
        from chinhquyenso.exchange import labels as code_labels

        AUDIT_ACTIONS.register("exchange", code_labels.AUDIT_ACTIONS)
