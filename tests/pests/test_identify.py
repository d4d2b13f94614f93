"""The identifier: a tiny ONNX model built by the test (tests/pests/onnx_models.py) run through ONNX
Runtime with the real preprocessing — known answers, probabilities or logits, configuration errors in
Vietnamese, safe decoding."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from chinhquyenso.core.errors import DomainError
from chinhquyenso.pests import identify
from chinhquyenso.pests.identify import ModelConfigurationError, OnnxIdentifier, get_identifier
from tests.pests.onnx_models import build_model, photo, write_model


@pytest.fixture
def model_files(tmp_path):
    return write_model(tmp_path / "model")


def best(prediction):
    return prediction[0][0], prediction[0][1]


def test_predictions_are_the_known_classes_sorted_best_first(model_files):
    identifier = OnnxIdentifier(*model_files)
    assert identifier.classes == ["ray-nau", "none", "dao-on"] and identifier.size == 32
    red, green, blue = identifier.predict([photo("red"), photo("green", fmt="PNG"), photo("blue")])
    assert best(red)[0] == "ray-nau" and best(red)[1] > 0.95
    assert best(green)[0] == "none" and best(blue)[0] == "dao-on"
    for prediction in (red, green, blue):
        assert [p for _, p in prediction] == sorted((p for _, p in prediction), reverse=True)
        assert sum(p for _, p in prediction) == pytest.approx(1.0, abs=1e-6)
        assert {code for code, _ in prediction} == {"ray-nau", "none", "dao-on"}
    torn = identifier.predict([photo("purple")])[0]  # red + blue: rầy nâu and đạo ôn about even
    assert {torn[0][0], torn[1][0]} == {"ray-nau", "dao-on"} and torn[0][1] < 0.6


def test_version_is_the_name_and_the_model_files_hash(model_files):
    import hashlib

    identifier = OnnxIdentifier(*model_files)
    digest = hashlib.sha256(model_files[0].read_bytes()).hexdigest()
    assert identifier.name == "tiny-pests" and identifier.version == f"tiny-pests@{digest[:12]}"


def test_a_model_ending_in_softmax_is_not_softmaxed_twice(tmp_path):
    logits = OnnxIdentifier(*write_model(tmp_path / "a", scale=1.0))
    probabilities = OnnxIdentifier(*write_model(tmp_path / "b", scale=1.0, probabilities=True))
    image = photo("red")
    (code_a, p_a), (code_b, p_b) = best(logits.predict([image])[0]), best(probabilities.predict([image])[0])
    assert code_a == code_b == "ray-nau" and p_a == pytest.approx(p_b, rel=1e-4)
    # Softmax applied twice would flatten the answer towards 1/3.
    assert best(probabilities.predict([image])[0])[1] > 0.8


def test_a_batch_fixed_at_one_runs_photo_by_photo(tmp_path):
    identifier = OnnxIdentifier(*write_model(tmp_path, batch=1))
    assert identifier.one_at_a_time
    out = identifier.predict([photo("red"), photo("blue"), photo("green")])
    assert [p[0][0] for p in out] == ["ray-nau", "dao-on", "none"]


def test_class_list_as_json_and_with_comments(tmp_path):
    model, _ = write_model(tmp_path)
    as_json = tmp_path / "classes.json"
    as_json.write_text('["ray-nau", "none", "dao-on"]', encoding="utf-8")
    assert OnnxIdentifier(model, as_json).classes == ["ray-nau", "none", "dao-on"]
    commented = tmp_path / "classes.txt"
    commented.write_text("# lớp của mô hình\nray-nau\n\nnone\ndao-on\n", encoding="utf-8")
    assert OnnxIdentifier(model, commented).classes == ["ray-nau", "none", "dao-on"]


def test_a_class_list_of_the_wrong_length_is_a_vietnamese_configuration_error(tmp_path):
    model, classes = write_model(tmp_path, classes_text="ray-nau\nnone\n")
    with pytest.raises(ModelConfigurationError) as refused:
        OnnxIdentifier(model, classes)
    assert "Danh sách lớp có 2 mã nhưng mô hình “tiny-pests” trả về 3 giá trị" in str(refused.value)


@pytest.mark.parametrize(
    "text, message",
    [
        ("ray-nau\nnone\nray-nau\n", "Mã lớp “ray-nau” lặp lại"),
        ("# chỉ có chú thích\n", "không có mã lớp nào"),
        ("[1, 2, 3]", "chỉ được chứa các mã lớp"),
        ('["ray-nau",', "không phải danh sách JSON hợp lệ"),
    ],
)
def test_bad_class_lists(tmp_path, text, message):
    model, classes = write_model(tmp_path, classes_text=text)
    with pytest.raises(ModelConfigurationError, match=message):
        OnnxIdentifier(model, classes)


def test_missing_or_unreadable_model(tmp_path, model_files):
    with pytest.raises(ModelConfigurationError, match="Không tìm thấy tệp mô hình nhận dạng"):
        OnnxIdentifier(tmp_path / "khong-co.onnx", model_files[1])
    with pytest.raises(ModelConfigurationError, match="Không tìm thấy tệp danh sách lớp"):
        OnnxIdentifier(model_files[0], tmp_path / "khong-co.txt")
    broken = tmp_path / "hong.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(ModelConfigurationError, match="Không nạp được mô hình ONNX “hong.onnx”"):
        OnnxIdentifier(broken, model_files[1])


def test_a_model_without_an_image_input_is_refused(tmp_path):
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "not-an-image",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path = tmp_path / "flat.onnx"
    path.write_bytes(model.SerializeToString())
    classes = tmp_path / "c.txt"
    classes.write_text("a\nb\nc\n")
    with pytest.raises(ModelConfigurationError, match=r"phải là ảnh float32 dạng \[N, 3, H, W\]"):
        OnnxIdentifier(path, classes)


def test_get_identifier_reads_the_settings_and_keeps_one_session(settings, model_files):
    settings.CQS = {**settings.CQS, "PESTS_MODEL_PATH": "", "PESTS_MODEL_CLASSES": ""}
    assert get_identifier() is None  # not configured: every request goes to an expert
    settings.CQS = {**settings.CQS, "PESTS_MODEL_PATH": str(model_files[0]), "PESTS_MODEL_CLASSES": ""}
    with pytest.raises(ModelConfigurationError, match="chưa có tệp danh sách lớp"):
        get_identifier()
    settings.CQS = {**settings.CQS, "PESTS_MODEL_CLASSES": str(model_files[1])}
    first = get_identifier()
    assert isinstance(first, identify.Identifier) and get_identifier() is first
    model_files[0].write_bytes(build_model(scale=3.0))  # a new model file: a new session and version
    second = get_identifier()
    assert second is not first and second.version != first.version


def test_exif_orientation_is_applied_before_the_model_sees_the_photo():
    # A photo stored sideways: left half red, right half blue, EXIF says "rotate 90°" (orientation 6).
    image = Image.new("RGB", (40, 20))
    image.paste((220, 30, 30), (0, 0, 20, 20))
    image.paste((30, 40, 220), (20, 0, 40, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), quality=95)
    upright = identify.decode(out.getvalue(), 32)
    assert upright.size == (20, 40)  # turned upright: now taller than wide
    red = np.array(upright.getpixel((10, 5)))
    assert red[0] > 150 and red[2] < 100  # the red half is on top after rotating 90° clockwise


def test_preprocessing_is_the_imagenet_transform():
    image = Image.new("RGB", (100, 50), (255, 0, 0))
    tensor = identify.preprocess(image, 32)
    assert tensor.shape == (3, 32, 32) and tensor.dtype == np.float32
    assert tensor[0].mean() == pytest.approx((1 - 0.485) / 0.229, abs=1e-3)
    assert tensor[1].mean() == pytest.approx((0 - 0.456) / 0.224, abs=1e-3)
    assert tensor[2].mean() == pytest.approx((0 - 0.406) / 0.225, abs=1e-3)


def test_a_large_jpeg_is_decoded_at_a_reduced_scale():
    big = photo("red", size=(2048, 1536))
    decoded = identify.decode(big, 32)
    assert min(decoded.size) >= 37 and decoded.size[0] < 2048  # draft mode: 1/8 scale still covers 32/0.875


def test_bad_images_are_refused_in_vietnamese(settings):
    with pytest.raises(DomainError, match="Ảnh phải là tệp JPEG hoặc PNG"):
        identify.decode(b"GIF89a...", 32)
    with pytest.raises(DomainError, match="bị hỏng hoặc không đọc được"):
        identify.decode(photo("red")[:200], 32)
    settings.CQS = {**settings.CQS, "UPLOAD_MAX_PIXELS": 1000}
    with pytest.raises(DomainError, match="quá nhiều điểm ảnh"):  # a decompression bomb, refused from its header
        identify.decode(photo("red", size=(100, 100), fmt="PNG"), 32)


def test_to_probabilities_detects_outputs_that_already_are():
    already = np.array([[0.7, 0.2, 0.1]])
    assert identify.to_probabilities(already) == pytest.approx(already)
    logits = np.array([[2.0, 0.0, 0.0]])
    assert identify.to_probabilities(logits)[0, 0] == pytest.approx(np.exp(2) / (np.exp(2) + 2))
