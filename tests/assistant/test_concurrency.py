"""Several citizens at once (PostgreSQL): the same unanswered question asked by six clients
together is one row of the maintainers' list counted six times, and six turns of one chat
session racing on its first question are one conversation with six turns."""

import pytest

from chinhquyenso.assistant import conversation
from chinhquyenso.assistant.models import Conversation, UnansweredQuestion
from chinhquyenso.assistant.records import record_unanswered
from tests.core.test_workflow import run_at_once


@pytest.mark.django_db(transaction=True)
def test_one_question_asked_by_several_clients_at_once_is_counted_on_one_row():
    results = run_at_once(6, lambda i: record_unanswered("xin visa đi Mỹ, số 0912345678", channel="web"))
    assert not [r for r in results if isinstance(r, Exception)], results
    row = UnansweredQuestion.objects.get()
    assert row.times == 6
    assert "0912345678" not in row.text


@pytest.mark.django_db(transaction=True)
def test_a_chat_session_racing_on_its_first_question_is_one_conversation():
    results = run_at_once(6, lambda i: conversation.remember("phien-1", "1.001193"))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Conversation.objects.get().turns == 6
    assert conversation.current_procedure("phien-1") == "1.001193"
