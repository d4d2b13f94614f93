"""A tiny ONNX image classifier built with onnx.helper, whose answers are known in advance.

    image [N, 3, S, S] (ImageNet-normalised) → 1×1 Conv (identity) → GlobalAveragePool → Flatten
    → MatMul W [3, K] + b → logits [N, K] (→ Softmax with probabilities=True)

With the default classes ("ray-nau", "none", "dao-on") and weights, the logits are `scale` × the mean
of the red, green and blue channels after normalisation: a red photo is "rầy nâu", a green one "no
pest", a blue one "đạo ôn"; a purple one (red + blue) is torn between rầy nâu and đạo ôn — the case
where the service abstains. Used by the identification tests, the browser journey and as a model
to configure by hand (`python -m tests.pests.onnx_models DIR` writes model.onnx + classes.txt)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

DEFAULT_CLASSES = ("ray-nau", "none", "dao-on")
COLOURS = {
    "red": (220, 30, 30),
    "green": (30, 200, 40),
    "blue": (30, 40, 220),
    "purple": (220, 30, 200),
    "grey": (128, 128, 128),
}


def build_model(
    *,
    classes=DEFAULT_CLASSES,
    size: int = 32,
    scale: float = 2.0,
    probabilities: bool = False,
    batch: int | str = "N",
    weights=None,
) -> bytes:
    """The serialised model. `weights`: a [3][K] list (channel → class); by default channel i votes for
    class i (red, green, blue) and any further class gets nothing. `batch`: "N" (dynamic) or 1."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    k = len(classes)
    if weights is None:
        weights = np.zeros((3, k), dtype=np.float32)
        for channel in range(min(3, k)):
            weights[channel, channel] = scale
    weights = np.asarray(weights, dtype=np.float32)
    conv = np.eye(3, dtype=np.float32).reshape(3, 3, 1, 1)
    initializers = [
        numpy_helper.from_array(conv, "conv_w"),
        numpy_helper.from_array(np.zeros(3, dtype=np.float32), "conv_b"),
        numpy_helper.from_array(weights, "fc_w"),
        numpy_helper.from_array(np.zeros(k, dtype=np.float32), "fc_b"),
    ]
    nodes = [
        helper.make_node("Conv", ["image", "conv_w", "conv_b"], ["features"], kernel_shape=[1, 1]),
        helper.make_node("GlobalAveragePool", ["features"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "fc_w"], ["product"]),
        helper.make_node("Add", ["product", "fc_b"], ["logits" if probabilities else "scores"]),
    ]
    if probabilities:
        nodes.append(helper.make_node("Softmax", ["logits"], ["scores"], axis=1))
    graph = helper.make_graph(
        nodes,
        "tiny-pest-classifier",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [batch, 3, size, size])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [batch, k])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="cqs-tests")
    model.ir_version = 8  # readable by every onnxruntime the project supports
    onnx.checker.check_model(model)
    return model.SerializeToString()


def write_model(
    directory, *, name: str = "tiny-pests", classes=DEFAULT_CLASSES, classes_text: str | None = None, **options
):
    """model + class list written into `directory`; returns (model path, classes path)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model_path = directory / f"{name}.onnx"
    model_path.write_bytes(build_model(classes=classes, **options))
    classes_path = directory / f"{name}.classes.txt"
    classes_path.write_text(classes_text if classes_text is not None else "\n".join(classes) + "\n", encoding="utf-8")
    return model_path, classes_path


def photo(colour="red", *, size=(64, 48), fmt: str = "JPEG", exif=None, noise: int = 0) -> bytes:
    """A photo of one colour (a name of COLOURS or an RGB tuple), JPEG or PNG, optionally with EXIF."""
    from PIL import Image

    rgb = COLOURS[colour] if isinstance(colour, str) else tuple(colour)
    image = Image.new("RGB", size, rgb)
    if noise:
        import random

        rng = random.Random(noise)
        pixels = image.load()
        for _ in range(size[0] * size[1] // 10):
            x, y = rng.randrange(size[0]), rng.randrange(size[1])
            pixels[x, y] = tuple(min(255, max(0, c + rng.randint(-40, 40))) for c in rgb)
    out = io.BytesIO()
    options = {"exif": exif.tobytes() if hasattr(exif, "tobytes") else exif} if exif is not None else {}
    image.save(out, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}), **options)
    return out.getvalue()


if __name__ == "__main__":  # python -m tests.pests.onnx_models DIR
    model_path, classes_path = write_model(sys.argv[1] if len(sys.argv) > 1 else ".")
    print(f"CQS_PESTS_MODEL_PATH={model_path}\nCQS_PESTS_MODEL_CLASSES={classes_path}")
