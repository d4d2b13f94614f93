from django.apps import AppConfig


class AssistantConfig(AppConfig):
    name = "chinhquyenso.assistant"
    label = "assistant"
    verbose_name = "Trợ lý thủ tục hành chính"

    def ready(self):
        # The names of the codes this app writes, for the administration's audit log.
        from chinhquyenso.assistant import labels as code_labels
        from chinhquyenso.core.registry import AUDIT_ACTIONS, JOBS, MESSAGE_KINDS, Job

        AUDIT_ACTIONS.register("assistant", code_labels.AUDIT_ACTIONS)
        MESSAGE_KINDS.register("assistant", code_labels.MESSAGE_KINDS)
        # Conversations idle for 30 minutes are forgotten (they hold no personal data, only a hash).
        JOBS.register("forget_conversations", Job("chinhquyenso.assistant.tasks.forget_conversations", 60 * 60))
        # The ranked search, for the procedures API below this app (core.registry.PROCEDURE_SEARCH).
        from chinhquyenso.assistant import index
        from chinhquyenso.core.registry import PROCEDURE_SEARCH

        PROCEDURE_SEARCH.register("ranked", index.ranked_ids)
