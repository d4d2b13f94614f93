"""The Vietnamese names of the audit actions this app records and the messages it sends
(core.registry.AUDIT_ACTIONS, MESSAGE_KINDS)."""

from chinhquyenso.core.registry import CodeLabels

AUDIT_ACTIONS = CodeLabels(
    exact={
        "assistant.synonym.create": "Thêm từ đồng nghĩa cho tìm kiếm thủ tục",
        "assistant.synonym.update": "Sửa từ đồng nghĩa cho tìm kiếm thủ tục",
        "assistant.synonyms.load": "Nạp bảng từ đồng nghĩa mặc định",
        "assistant.faq.create": "Thêm câu hỏi thường gặp của thủ tục",
        "assistant.faq.update": "Sửa câu hỏi thường gặp của thủ tục",
        "assistant.faq.load": "Nạp câu hỏi thường gặp mặc định",
        "assistant.unanswered.resolve": "Đánh dấu đã xử lý câu hỏi chưa trả lời được",
    }
)

MESSAGE_KINDS = CodeLabels(exact={"assistant.zalo_reply": "Trợ lý trả lời câu hỏi qua Zalo"})
