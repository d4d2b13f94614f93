"""Online payment of a dossier's fees through the payment platform (PayGov-style).

A PaymentOrder is our side of one attempt to pay: created here, then pending at
the platform, then paid, failed, cancelled or expired. Only a payment the
platform confirmed — by a callback whose signature checks, or by our own
question to the platform — becomes a dossiers.Payment (method online, with the
platform's transaction reference): never the citizen's browser coming back."""

from django.conf import settings
from django.db import models

from chinhquyenso.core.text import format_number
from chinhquyenso.dossiers.models import Dossier, Payment


class PaymentOrder(models.Model):
    class Status(models.TextChoices):
        CREATED = "created", "Mới tạo"
        PENDING = "pending", "Chờ thanh toán"
        PAID = "paid", "Đã thanh toán"
        FAILED = "failed", "Thanh toán không thành công"
        EXPIRED = "expired", "Hết hạn thanh toán"
        CANCELLED = "cancelled", "Người nộp đã hủy"

    order_ref = models.CharField("mã yêu cầu thanh toán", max_length=40, unique=True)
    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="payment_orders", verbose_name="hồ sơ")
    status = models.CharField("trạng thái", max_length=10, choices=Status.choices, default=Status.CREATED)
    amount_full = models.PositiveBigIntegerField("phí, lệ phí chưa giảm (đồng)")
    discount_percent = models.PositiveSmallIntegerField("mức giảm (%)", default=0)
    discount_rule = models.CharField("căn cứ giảm", max_length=300, blank=True)
    amount = models.PositiveBigIntegerField("số tiền thanh toán (đồng)")
    transaction_ref = models.CharField("mã giao dịch của nền tảng thanh toán", max_length=80, blank=True)
    pay_url = models.CharField("địa chỉ trang thanh toán", max_length=500, blank=True)
    qr_payload = models.TextField("nội dung mã QR", blank=True)
    callback_log = models.JSONField("nhật ký thông báo từ nền tảng", default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name="người tạo"
    )
    created_at = models.DateTimeField("tạo lúc")
    paid_at = models.DateTimeField("thanh toán lúc (theo nền tảng)", null=True, blank=True)
    verified_at = models.DateTimeField("xác minh lúc", null=True, blank=True)
    verified_by = models.CharField(
        "xác minh qua", max_length=10, blank=True, help_text="callback: thông báo có chữ ký; query: hỏi lại nền tảng."
    )
    payment = models.OneToOneField(
        Payment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="order",
        verbose_name="khoản nộp đã ghi nhận",
    )
    note = models.CharField("ghi chú", max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "yêu cầu thanh toán trực tuyến"
        verbose_name_plural = "yêu cầu thanh toán trực tuyến"
        constraints = [
            models.UniqueConstraint(
                fields=["transaction_ref"],
                condition=~models.Q(transaction_ref=""),
                name="payment_order_transaction_unique",
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="payment_order_created_idx")]

    def __str__(self):
        return f"Yêu cầu thanh toán {self.order_ref} — hồ sơ {self.dossier.code}"

    @property
    def is_final(self) -> bool:
        return self.status in (self.Status.PAID, self.Status.FAILED, self.Status.EXPIRED, self.Status.CANCELLED)

    @property
    def discount(self) -> int:
        return max(0, self.amount_full - self.amount)

    @property
    def amount_text(self) -> str:
        return f"{format_number(self.amount)} đồng"


class Refund(models.Model):
    class Status(models.TextChoices):
        RECORDED = "recorded", "Đã quyết định hoàn trả, chờ chuyển tiền"
        COMPLETED = "completed", "Đã chuyển trả tiền"

    order = models.ForeignKey(
        PaymentOrder, on_delete=models.PROTECT, related_name="refunds", verbose_name="yêu cầu thanh toán"
    )
    amount = models.PositiveBigIntegerField("số tiền hoàn trả (đồng)")
    reason = models.TextField("lý do hoàn trả")
    status = models.CharField("trạng thái", max_length=10, choices=Status.choices, default=Status.RECORDED)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="người ghi nhận"
    )
    recorded_at = models.DateTimeField("ghi nhận lúc")

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = "khoản hoàn trả"
        verbose_name_plural = "khoản hoàn trả"

    def __str__(self):
        return f"Hoàn trả {format_number(self.amount)} đồng — {self.order.order_ref}"
