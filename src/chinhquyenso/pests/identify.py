"""Photo identification of crop pests and diseases: the identifier interface and its ONNX Runtime
implementation.

    get_identifier() -> Identifier | None      (None: no model configured — every request goes to an expert)
    Identifier.predict(images: list[bytes]) -> [[(class code, probability), …] best first, one list per image]

The model (settings CQS["PESTS_MODEL_PATH"], env CQS_PESTS_MODEL_PATH) is an image classifier exported
to ONNX; its class list (CQS["PESTS_MODEL_CLASSES"]) is a text file with one class code per line, in the
order of the model's outputs (blank lines and lines starting with "#" are skipped), or a JSON list of
codes. A code is a catalog organism's code, or "none" for a photo with no pest or disease. None is
bundled: no honest model can be taken from a registry package; docs/pests.md says how to export one.

What the model receives (the usual ImageNet evaluation transform, so a network fine-tuned with
torchvision's `Resize(round(size / 0.875))` + `CenterCrop(size)` + `Normalize` gets the pixels it was
trained on):

1. the photo decoded with Pillow under the platform's upload checks (JPEG or PNG by content, the byte
   limit CQS_UPLOAD_MAX_BYTES, the pixel count read from the header first against decompression bombs,
   CQS_UPLOAD_MAX_PIXELS), turned upright by its EXIF orientation and converted to RGB — a JPEG is
   decoded directly at a reduced scale when it is much larger than needed (Pillow's draft mode);
2. resized (bilinear) so its shorter side is round(size / 0.875) — 256 for 224 — and centre-cropped to
   size × size, the size read from the model's input shape [N, 3, H, W] (224 when the shape is symbolic);
3. scaled to 0…1 and normalised per channel with the ImageNet mean (0.485, 0.456, 0.406) and standard
   deviation (0.229, 0.224, 0.225), laid out NCHW, float32;
4. run on the CPU provider; the output [N, classes] is taken as probabilities when every row is
   already in 0…1 and sums to 1 (a model ending in Softmax), else a softmax is applied to it.

One InferenceSession per process and model file, cached (`get_identifier` builds it again only when the
model or class file changes on disk). A wrong configuration — a missing file, a class list whose length
is not the model's output size, a repeated code, an input that is not a float image — raises
`ModelConfigurationError` with a Vietnamese message for the operator."""

from __future__ import annotations

import hashlib
import io
import json
import math
import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from chinhquyenso.core.errors import DomainError
from chinhquyenso.core.uploads import IMAGE_TYPES, check_image, pillow, sniff

NONE = "none"  # the class of a photo with no pest or disease on it
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
CROP_RATIO = 0.875  # 224 / 256: resize the shorter side to size / 0.875, then centre-crop size × size
DEFAULT_SIZE = 224
PROBABILITY_TOLERANCE = 1e-3
UNREADABLE = "Tệp ảnh bị hỏng hoặc không đọc được; hãy chụp lại hoặc chọn ảnh khác."


class ModelConfigurationError(ImproperlyConfigured):
    """The configured model or class list cannot be used; the message (Vietnamese) says why."""


@runtime_checkable
class Identifier(Protocol):
    name: str
    version: str  # the name and the first 12 hex digits of the model file's SHA-256
    classes: list[str]

    def predict(self, images: list[bytes]) -> list[list[tuple[str, float]]]: ...


# ---------------------------------------------------------------------- the class list


def read_classes(path: str | Path) -> list[str]:
    """The class codes of a class-list file: a JSON list, or one code per line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ModelConfigurationError(
            f"Không tìm thấy tệp danh sách lớp của mô hình nhận dạng “{path}” (CQS_PESTS_MODEL_CLASSES)."
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ModelConfigurationError(f"Không đọc được tệp danh sách lớp “{path}”: {error}.") from None
    if text.lstrip().startswith("["):
        try:
            codes = json.loads(text)
        except ValueError as error:
            raise ModelConfigurationError(
                f"Tệp danh sách lớp “{path}” không phải danh sách JSON hợp lệ: {error}."
            ) from None
        if not all(isinstance(code, str) for code in codes):
            raise ModelConfigurationError(f"Danh sách lớp JSON “{path}” chỉ được chứa các mã lớp (chuỗi ký tự).")
    else:
        codes = [line for line in (raw.strip() for raw in text.splitlines()) if line and not line.startswith("#")]
    codes = [code.strip() for code in codes]
    if not codes:
        raise ModelConfigurationError(f"Tệp danh sách lớp “{path}” không có mã lớp nào.")
    seen: set[str] = set()
    for number, code in enumerate(codes, start=1):
        if not code:
            raise ModelConfigurationError(f"Lớp thứ {number} trong “{path}” không có mã.")
        if code in seen:
            raise ModelConfigurationError(f"Mã lớp “{code}” lặp lại trong danh sách lớp “{path}”.")
        seen.add(code)
    return codes


# ---------------------------------------------------------------------- images


def decode(data: bytes, size: int, field: str = "photos"):
    """A photo's bytes → an upright RGB Pillow image, checked like every upload (DomainError naming
    `field` when refused). `size`: the model's input size (a large JPEG is decoded at a reduced scale
    that still covers it)."""
    from PIL import ImageOps, UnidentifiedImageError

    Image = pillow()
    kind = sniff(bytes(data[:16])) if data else None
    if kind is None or kind[0] not in IMAGE_TYPES:
        raise DomainError("Ảnh phải là tệp JPEG hoặc PNG (kiểm tra theo nội dung tệp).", field)
    limit = settings.CQS["UPLOAD_MAX_BYTES"]
    if len(data) > limit:
        raise DomainError(f"Ảnh vượt quá dung lượng cho phép ({limit // (1024 * 1024)} MB).", field)
    check_image(io.BytesIO(data), field)  # the pixel count from the header, before any decoding
    try:
        image = Image.open(io.BytesIO(data))
        if image.format == "JPEG":
            shorter = math.ceil(size / CROP_RATIO)
            image.draft("RGB", (shorter, shorter))  # decode at 1/2, 1/4 or 1/8 scale when that still covers it
        image = ImageOps.exif_transpose(image)
        return image.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise DomainError(UNREADABLE, field) from None


def preprocess(image, size: int):
    """An RGB image → a float32 array [3, size, size], resized, centre-cropped and normalised (module doc)."""
    import numpy as np

    Image = pillow()
    width, height = image.size
    shorter = round(size / CROP_RATIO)
    scale = shorter / min(width, height)
    resized = image.resize(
        (max(size, round(width * scale)), max(size, round(height * scale))), Image.Resampling.BILINEAR
    )
    left = (resized.width - size) // 2
    top = (resized.height - size) // 2
    cropped = resized.crop((left, top, left + size, top + size))
    pixels = np.asarray(cropped, dtype=np.float32) / 255.0  # H, W, 3
    pixels = (pixels - np.array(MEAN, dtype=np.float32)) / np.array(STD, dtype=np.float32)
    return np.ascontiguousarray(pixels.transpose(2, 0, 1), dtype=np.float32)


def to_probabilities(outputs):
    """Rows of scores → rows of probabilities: kept when they already are (each row in 0…1 and summing
    to 1), else softmax."""
    import numpy as np

    outputs = np.asarray(outputs, dtype=np.float64)
    if (
        np.all(outputs >= -PROBABILITY_TOLERANCE)
        and np.all(outputs <= 1 + PROBABILITY_TOLERANCE)
        and np.allclose(outputs.sum(axis=1), 1.0, atol=PROBABILITY_TOLERANCE)
    ):
        return np.clip(outputs, 0.0, 1.0)
    shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------------- ONNX Runtime


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


class OnnxIdentifier:
    """An image classifier exported to ONNX, run by ONNX Runtime on the CPU (module doc)."""

    def __init__(self, model_path: str | Path, classes_path: str | Path, *, threads: int = 0):
        import onnxruntime

        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise ModelConfigurationError(
                f"Không tìm thấy tệp mô hình nhận dạng “{self.model_path}” (CQS_PESTS_MODEL_PATH)."
            )
        self.classes = read_classes(classes_path)
        self.name = self.model_path.stem[:60]
        self.sha256 = file_sha256(self.model_path)
        self.version = f"{self.name}@{self.sha256[:12]}"
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        try:
            self.session = onnxruntime.InferenceSession(
                str(self.model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own exception types for any unreadable graph
            raise ModelConfigurationError(
                f"Không nạp được mô hình ONNX “{self.model_path.name}”: {str(error)[:300]}"
            ) from None
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1:
            raise ModelConfigurationError(
                f"Mô hình “{self.name}” cần {len(inputs)} đầu vào; chỉ dùng được mô hình có một đầu vào là ảnh."
            )
        source = inputs[0]
        shape = list(source.shape)
        if source.type != "tensor(float)" or len(shape) != 4 or shape[1] not in (3, "3"):
            raise ModelConfigurationError(
                f"Đầu vào “{source.name}” của mô hình “{self.name}” phải là ảnh float32 dạng [N, 3, H, W] "
                f"(hiện là {source.type} {shape})."
            )
        self.input_name = source.name
        self.size = shape[2] if isinstance(shape[2], int) and shape[2] > 0 else DEFAULT_SIZE
        if isinstance(shape[3], int) and shape[3] > 0 and shape[3] != self.size:
            raise ModelConfigurationError(
                f"Mô hình “{self.name}” nhận ảnh {shape[2]}×{shape[3]}; chỉ dùng được ảnh vuông."
            )
        self.one_at_a_time = shape[0] == 1  # a batch dimension fixed at 1: one run per photo
        self.output_name = outputs[0].name
        width = outputs[0].shape[-1] if outputs[0].shape else None
        if isinstance(width, int):
            self._check_width(width)

    def _check_width(self, width: int) -> None:
        if width != len(self.classes):
            raise ModelConfigurationError(
                f"Danh sách lớp có {len(self.classes)} mã nhưng mô hình “{self.name}” trả về {width} giá trị cho mỗi "
                "ảnh; hai số phải bằng nhau (mỗi dòng của tệp danh sách lớp là mã một lớp, đúng thứ tự đầu ra của "
                "mô hình)."
            )

    def tensor(self, images: list[bytes], field: str = "photos"):
        """The photos as the model's input batch [N, 3, size, size] (decode + preprocess)."""
        import numpy as np

        return np.stack([preprocess(decode(data, self.size, field), self.size) for data in images])

    def run(self, batch):
        """Probabilities [N, classes] for a prepared batch."""
        import numpy as np

        if self.one_at_a_time:
            rows = [
                self.session.run([self.output_name], {self.input_name: batch[i : i + 1]})[0] for i in range(len(batch))
            ]
            raw = np.concatenate([np.asarray(row).reshape(1, -1) for row in rows])
        else:
            raw = np.asarray(self.session.run([self.output_name], {self.input_name: batch})[0]).reshape(len(batch), -1)
        self._check_width(raw.shape[1])
        return to_probabilities(raw)

    def predict(self, images: list[bytes]) -> list[list[tuple[str, float]]]:
        if not images:
            return []
        probabilities = self.run(self.tensor(images))
        return [
            sorted(((code, float(p)) for code, p in zip(self.classes, row, strict=True)), key=lambda cp: -cp[1])
            for row in probabilities
        ]


# ---------------------------------------------------------------------- the configured one

_lock = threading.Lock()
_cached: dict[tuple, OnnxIdentifier] = {}


def _stamp(path: Path) -> tuple:
    try:
        stat = path.stat()
    except OSError:
        return (str(path), None)
    return (str(path), stat.st_mtime_ns, stat.st_size)


def get_identifier() -> Identifier | None:
    """The configured identifier (one per process and model file), or None when CQS_PESTS_MODEL_PATH is
    empty. ModelConfigurationError when it is set but cannot be used."""
    model = (settings.CQS.get("PESTS_MODEL_PATH") or "").strip()
    if not model:
        return None
    classes = (settings.CQS.get("PESTS_MODEL_CLASSES") or "").strip()
    if not classes:
        raise ModelConfigurationError(
            "Đã cấu hình mô hình nhận dạng (CQS_PESTS_MODEL_PATH) nhưng chưa có tệp danh sách lớp "
            "(CQS_PESTS_MODEL_CLASSES): mỗi dòng là mã một lớp, đúng thứ tự đầu ra của mô hình."
        )
    key = (_stamp(Path(model)), _stamp(Path(classes)))
    with _lock:
        identifier = _cached.get(key)
        if identifier is None:
            identifier = OnnxIdentifier(model, classes)
            _cached.clear()  # a replaced model file: the old session is dropped
            _cached[key] = identifier
        return identifier
