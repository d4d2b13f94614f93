from django.conf import settings
from django.db import models

from chinhquyenso.core.unique import NamedUniqueMessage


class Synonym(NamedUniqueMessage, models.Model):
    """A way people ask for something and the catalog's words for it: "sổ đỏ" → "giấy chứng nhận
    quyền sử dụng đất". Kept as data: catalog maintainers add entries from unanswered questions."""

    phrase = models.CharField(
        "cách hỏi", max_length=200, help_text="Cách người dân thường gọi, ví dụ “sổ đỏ”, “làm giấy khai sinh”."
    )
    phrase_folded = models.CharField("cách hỏi không dấu (để so khớp)", max_length=200, unique=True, editable=False)
    expansion = models.CharField(
        "tên gọi trong danh mục",
        max_length=300,
        help_text="Từ ngữ trong tên thủ tục, giấy tờ hoặc kết quả, ví dụ “giấy chứng nhận quyền sử dụng đất”.",
    )
    note = models.CharField("ghi chú", max_length=300, blank=True)
    is_active = models.BooleanField("đang dùng", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="người tạo",
        editable=False,
    )
    updated_at = models.DateTimeField("cập nhật lúc", auto_now=True)

    class Meta:
        ordering = ["phrase_folded"]
        verbose_name = "từ đồng nghĩa"
        verbose_name_plural = "từ đồng nghĩa"

    def __str__(self):
        return f"{self.phrase} → {self.expansion}"


class FaqEntry(models.Model):
    """A question citizens ask about a procedure and the catalog maintainers' answer to it. Indexed
    with the procedure; the assistant quotes the answer as written and cites the procedure."""

    procedure = models.ForeignKey(
        "procedures.Procedure", on_delete=models.CASCADE, related_name="faq", verbose_name="thủ tục hành chính"
    )
    question = models.CharField("câu hỏi", max_length=500)
    answer = models.TextField("trả lời")
    is_active = models.BooleanField("đang dùng", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="người tạo",
        editable=False,
    )
    updated_at = models.DateTimeField("cập nhật lúc", auto_now=True)

    class Meta:
        ordering = ["procedure_id", "id"]
        verbose_name = "câu hỏi thường gặp"
        verbose_name_plural = "câu hỏi thường gặp"
        constraints = [models.UniqueConstraint(fields=["procedure", "question"], name="faq_question_unique")]

    def __str__(self):
        return self.question


class UnansweredQuestion(models.Model):
    """A question the assistant could not answer with confidence, kept for the catalog maintainers
    without personal data (ID and phone numbers, e-mail addresses masked before it is stored), and
    counted: the same question asked again adds to `times`."""

    text = models.CharField("câu hỏi (đã che dữ liệu cá nhân)", max_length=500)
    text_folded = models.CharField("câu hỏi không dấu (để gộp)", max_length=500, unique=True)
    times = models.PositiveIntegerField("số lần hỏi", default=1)
    best_procedure_code = models.CharField("thủ tục gần nhất", max_length=40, blank=True)
    best_score = models.FloatField("điểm gần nhất", default=0)
    channel = models.CharField("kênh", max_length=20, blank=True)
    first_asked_at = models.DateTimeField("hỏi lần đầu")
    last_asked_at = models.DateTimeField("hỏi gần nhất", db_index=True)
    resolved_at = models.DateTimeField("đã xử lý lúc", null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="người xử lý",
    )
    resolution = models.CharField("cách xử lý", max_length=300, blank=True)

    class Meta:
        ordering = ["-last_asked_at"]
        verbose_name = "câu hỏi chưa trả lời được"
        verbose_name_plural = "câu hỏi chưa trả lời được"

    def __str__(self):
        return self.text


class Conversation(models.Model):
    """What a chat is about, so a follow-up ("còn lệ phí thì sao?") refers to the procedure found
    before. Keyed by a hash of the caller's session id; no personal data; expires after a while."""

    key = models.CharField("khóa phiên (băm)", max_length=64, unique=True)
    procedure_code = models.CharField("thủ tục đang nói tới", max_length=40, blank=True)
    turns = models.PositiveIntegerField("số lượt hỏi", default=0)
    updated_at = models.DateTimeField("cập nhật lúc", db_index=True)

    class Meta:
        verbose_name = "cuộc trò chuyện"
        verbose_name_plural = "cuộc trò chuyện"

    def __str__(self):
        return f"Cuộc trò chuyện {self.pk}"
