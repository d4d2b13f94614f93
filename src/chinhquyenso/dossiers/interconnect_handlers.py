"""Liên thông on the data bus: what this app registers (from DossiersConfig.ready()).

- `core.registry.BUS_HANDLERS["lien-thong.part-status"]`: the other systems' news about a part,
  arriving through our bus (`POST /r1/<our lien-thong service>/parts/{reference}/status`);
- `core.registry.BUS_REPLIES["dossiers.part_submit"]`: the other system's answer to a part we sent
  (202 {"request_id", "status": "received"}), run by the outbox worker once the call went through;
- the subscriber of DossierStatusChanged that moves applications along;
- the job `poll_interconnect_parts`: parts silent for too long are asked about, and parts whose
  message became a dead letter are marked failed (their rules apply)."""

from __future__ import annotations

from django_tasks import task

from chinhquyenso.dossiers import interconnect

POLL_SECONDS = 5 * 60


@task()
def poll_interconnect_parts() -> dict:
    return interconnect.poll_silent()


def register() -> None:
    from chinhquyenso.core import events
    from chinhquyenso.core.registry import BUS_HANDLERS, BUS_REPLIES, JOBS, Job

    BUS_HANDLERS.register("lien-thong.part-status", interconnect.part_status_handler)
    BUS_REPLIES.register(interconnect.KIND_SUBMIT, interconnect.record_sent)
    events.subscribe("DossierStatusChanged", interconnect.on_status_changed)
    JOBS.register(
        "poll_interconnect_parts",
        Job("chinhquyenso.dossiers.interconnect_handlers.poll_interconnect_parts", POLL_SECONDS),
    )
