"""Every write to documents (văn bản đi, văn bản đến). Callers use this package:
`from chinhquyenso.documents import services`.

- numbering: registers (sổ văn bản) and numbers, per Nghị định 30/2020;
- outgoing: drafting, review and approval, the leader's signature, issue (number, agency signature,
  distribution), recall and replacement;
- distribution: delivery inside the province and over the national exchange, and the statuses
  reported back to senders (`report_status`);
- incoming (docs-incoming): registration by hand, assignment, handling, directive tasks."""

from chinhquyenso.documents.services.distribution import deliver_incoming, report_status
from chinhquyenso.documents.services.numbering import format_symbol, register_for, take_number
from chinhquyenso.documents.services.outgoing import (
    add_attachments,
    add_version,
    approval_flow_for,
    approve,
    can_act,
    comment,
    create_draft,
    create_replacement,
    current_step,
    issue,
    recall,
    return_for_changes,
    set_recipients,
    sign,
    submit,
    update_draft,
)

__all__ = [
    "add_attachments",
    "add_version",
    "approval_flow_for",
    "approve",
    "can_act",
    "comment",
    "create_draft",
    "create_replacement",
    "current_step",
    "deliver_incoming",
    "format_symbol",
    "issue",
    "recall",
    "register_for",
    "report_status",
    "return_for_changes",
    "set_recipients",
    "sign",
    "submit",
    "take_number",
    "update_draft",
]
