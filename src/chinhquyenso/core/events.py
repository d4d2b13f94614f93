from chinhquyenso.core.models import DomainEvent


def emit(name: str, **payload) -> DomainEvent:
    """Record a domain event in the current transaction; workers react to it."""
    return DomainEvent.objects.create(name=name, payload=payload)


# Handlers are registered explicitly in each app's AppConfig.ready(), e.g.
# events.subscribe("AgencyReorganized", move_open_dossiers). They run in the
# emitting transaction, so a change and every reaction to it commit together.
HANDLERS: dict[str, list] = {}


def subscribe(name: str, handler) -> None:
    if handler not in HANDLERS.setdefault(name, []):
        HANDLERS[name].append(handler)


def publish(name: str, **payload) -> DomainEvent:
    """Record the event and run its subscribers now, in the same transaction."""
    from django.utils import timezone

    event = emit(name, **payload)
    for handler in HANDLERS.get(name, []):
        handler(event)
    event.processed_at = timezone.now()
    event.save(update_fields=["processed_at"])
    return event
