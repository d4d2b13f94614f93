from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "chinhquyenso.feedback"
    label = "feedback"
    verbose_name = "Phản ánh, kiến nghị"

    def ready(self):
        from chinhquyenso.core import events
        from chinhquyenso.feedback import services

        events.subscribe("AgencyReorganized", services.move_open_feedback)
