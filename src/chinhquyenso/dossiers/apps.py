from django.apps import AppConfig


class DossiersConfig(AppConfig):
    name = "chinhquyenso.dossiers"
    label = "dossiers"
    verbose_name = "Hồ sơ TTHC"

    def ready(self):
        from chinhquyenso.core import events
        from chinhquyenso.core.registry import JOBS, Job
        from chinhquyenso.dossiers import services

        JOBS.register("sweep_deadlines", Job("chinhquyenso.dossiers.tasks.sweep_deadlines", 15 * 60))
        events.subscribe("AgencyReorganized", services.move_open_dossiers)
        events.subscribe("ProcedureTransferred", services.move_open_dossiers)

        # The deadline sweep's reminders in the officer's "Quá hạn" and "Sắp đến hạn" tabs.
        from chinhquyenso.exchange import notices

        notices.file_under("qua-han", "dossiers.overdue")
        notices.file_under("sap-den-han", "dossiers.due_soon")

        # The names of the codes this app writes, for the administration's audit log and outbox.
        from chinhquyenso.core.registry import AUDIT_ACTIONS, MESSAGE_KINDS
        from chinhquyenso.dossiers import labels as code_labels

        AUDIT_ACTIONS.register("dossiers", code_labels.AUDIT_ACTIONS)
        MESSAGE_KINDS.register("dossiers", code_labels.MESSAGE_KINDS)

        # Telling the applicant of each change that concerns them (SMS, e-mail by consent; in-app always).
        from chinhquyenso.dossiers import notifications

        events.subscribe("DossierStatusChanged", notifications.on_status_changed)
        MESSAGE_KINDS.register("dossiers_citizen", notifications.message_kinds())

        # The dossier's statuses to the national portal over the data bus (CQS_NATIONAL_PORTAL_SYNC).
        from chinhquyenso.dossiers import national_sync

        events.subscribe("DossierStatusChanged", national_sync.on_status_changed)

        # Births, deaths and marriages registered here, to the civil-status database (CQS_CIVIL_STATUS_SYNC).
        from chinhquyenso.core.registry import BUS_REPLIES
        from chinhquyenso.dossiers import civil_status_sync

        events.subscribe("DossierStatusChanged", civil_status_sync.on_status_changed)
        BUS_REPLIES.register(civil_status_sync.KIND, civil_status_sync.on_reply)

        # Liên thông: interconnected procedures across systems (dossiers.interconnect).
        from chinhquyenso.dossiers import interconnect_handlers

        interconnect_handlers.register()
