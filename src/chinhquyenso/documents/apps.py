from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "chinhquyenso.documents"
    label = "documents"
    verbose_name = "Quản lý văn bản và điều hành"

    def ready(self):
        # The national e-document exchange: documents and statuses arriving over the bus, and the
        # exchange's answers to what we send (documents.exchange).
        from chinhquyenso.documents import exchange

        exchange.register()

        # The names of the codes this app writes, for the administration's audit log and outbox.
        from chinhquyenso.core.registry import AUDIT_ACTIONS, MESSAGE_KINDS
        from chinhquyenso.documents import labels as code_labels

        AUDIT_ACTIONS.register("documents", code_labels.AUDIT_ACTIONS)
        MESSAGE_KINDS.register("documents", code_labels.MESSAGE_KINDS)

        # docs-incoming registrations (jobs, indicators, subscribers) go below this line.
        from chinhquyenso.core.registry import INDICATOR_MEASURES, JOBS, Job, MeasureSource
        from chinhquyenso.documents import indicators as document_indicators

        # Reminders before assignments' deadlines and overdue notices; PDF text read for search.
        JOBS.register("document_reminders", Job("chinhquyenso.documents.jobs.send_reminders", 15 * 60))
        JOBS.register("document_text_index", Job("chinhquyenso.documents.jobs.index_texts", 5 * 60))
        from chinhquyenso.exchange import notices

        notices.file_under("qua-han", "documents.overdue")
        notices.file_under("sap-den-han", "documents.due_soon")
        # Exchanged electronically / signed / incoming handled on time, per agency and month.
        INDICATOR_MEASURES.register(
            "documents",
            MeasureSource(labels=document_indicators.MEASURES, compute=document_indicators.indicator_measures),
        )
