"""Questions per caller address per minute (the chat page, the API and the messaging channels are
open to anyone): CQS["ASSISTANT_PER_IP_PER_MINUTE"], counted by core.throttle."""

from chinhquyenso.core.throttle import PerMinute

QUESTIONS = PerMinute(
    name="assistant:ask",
    setting="ASSISTANT_PER_IP_PER_MINUTE",
    default=30,
    message="Bạn đã hỏi quá nhiều câu trong một phút; vui lòng chờ một chút rồi hỏi lại.",
    field="question",
)
