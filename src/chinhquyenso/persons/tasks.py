"""Linking runs in the worker (`cqs worker`), not in the request: a run over the province's records
takes minutes."""

from django.contrib.auth import get_user_model
from django_tasks import task

from chinhquyenso.persons.linkage import run


@task()
def link_task(actor_id: int | None, engine: str | None = None) -> dict:
    """Run the linking (persons.linkage.run.run_link) as the officer who asked for it (None: the system)."""
    actor = get_user_model().objects.get(pk=actor_id) if actor_id is not None else None
    link_run = run.run_link(actor=actor, engine=engine)
    return {
        "run": link_run.pk,
        "model": link_run.model.version,
        "records": link_run.records,
        "persons": link_run.persons,
        "review_pairs": link_run.review_pairs,
        "seconds": link_run.seconds,
    }
