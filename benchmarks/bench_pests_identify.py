"""Benchmark: identifying a crop pest from a farmer's photo on CPU — docs/benchmarks.md (section "Sinh vật
gây hại: nhận dạng qua ảnh").

    .venv/bin/python benchmarks/bench_pests_identify.py                      # 30 photos of 4000×3000
    .venv/bin/python benchmarks/bench_pests_identify.py --photos 5 --photo-size 1600x1200   # quick

The seed (000) reports the pilot app took more than 30 seconds per image; the goal is under 1 second.

1. The model: a MobileNetV2 (width 1.0, 224×224 input: a first 3×3 convolution, 17 inverted residual
   blocks — 1×1 expansion, 3×3 depthwise, 1×1 linear projection, ReLU6, shortcuts where the shape
   allows —, a 1×1 convolution to 1,280 channels, global average pooling and a linear classifier over
   --classes outputs) built with onnx.helper and random He-initialised weights (batch normalisation
   folded into the convolutions' biases, as an exported model has it): the size and the arithmetic of
   the network an installation would deploy, not its accuracy. Written once under a temporary directory.
2. The photos: --photos JPEG files of --photo-size (default 4000×3000, a phone camera's 12 MP), smooth
   colour fields with noise and a few blobs so they compress like field photos (1–3 MB), with EXIF
   orientation 6 (portrait) so the identifier's orientation step runs.
3. The path a farmer's photo takes: `pests.identify.OnnxIdentifier.predict([photo bytes])` — decode
   (Pillow), orientation, resize to the model's input, ImageNet normalisation, ONNX Runtime inference,
   softmax, classes sorted — one photo per call, after one warm-up call; and two photos of one field in
   one call (the farmer's usual request).
4. The peer: the bare ONNX Runtime session (`InferenceSession.run`) on a prepared 1×3×224×224 float32
   tensor — the inference alone; the ratio says what decoding and preprocessing add.

ONNX Runtime uses its default thread pool (every core this process may use: `nproc`).
Results go to benchmarks/results/bench_pests_identify-<time>.json.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import _common as c

RESULTS = c.ROOT / "benchmarks" / "results"
GOAL_SECONDS = 1.0
SEED_SECONDS = 30.0

# MobileNetV2's blocks: (expansion t, output channels c, repeats n, first stride s).
MOBILENET_V2 = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


def args_():
    p = c.parser("Photo identification on CPU: OnnxIdentifier against bare ONNX Runtime inference.")
    p.add_argument("--photos", type=int, default=30, help="timed photos (default %(default)s)")
    p.add_argument("--photo-size", default="4000x3000", help="photo width×height in pixels (default %(default)s)")
    p.add_argument(
        "--classes",
        type=int,
        default=0,
        help="classifier outputs (default: the shipped catalog's organisms + «none», as a deployed model has)",
    )
    p.add_argument("--seed", type=int, default=24)
    return p.parse_args()


# ---------------------------------------------------------------- the model


def build_mobilenet_v2(path: Path, classes: int, *, size: int = 224, seed: int = 24) -> dict:
    """Write a MobileNetV2-like ONNX model (see the module's docstring); → its figures."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    counter = {"n": 0, "params": 0, "macs": 0}

    def name(prefix: str) -> str:
        counter["n"] += 1
        return f"{prefix}{counter['n']}"

    def weight(shape, fan_in) -> str:
        data = (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        key = name("w")
        inits.append(numpy_helper.from_array(data, key))
        counter["params"] += data.size
        return key

    def bias(channels) -> str:
        data = (rng.standard_normal(channels) * 0.01).astype(np.float32)
        key = name("b")
        inits.append(numpy_helper.from_array(data, key))
        counter["params"] += data.size
        return key

    low = numpy_helper.from_array(np.array(0.0, dtype=np.float32), "relu6_min")
    high = numpy_helper.from_array(np.array(6.0, dtype=np.float32), "relu6_max")
    inits += [low, high]

    def conv(x, c_in, c_out, k, stride, hw, *, group=1, relu=True):
        out = name("conv")
        w = weight((c_out, c_in // group, k, k), fan_in=(c_in // group) * k * k)
        nodes.append(
            helper.make_node(
                "Conv",
                [x, w, bias(c_out)],
                [out],
                kernel_shape=[k, k],
                strides=[stride, stride],
                pads=[k // 2] * 4,
                group=group,
            )
        )
        hw_out = (hw + stride - 1) // stride
        counter["macs"] += hw_out * hw_out * c_out * (c_in // group) * k * k
        if relu:
            clipped = name("relu6")
            nodes.append(helper.make_node("Clip", [out, "relu6_min", "relu6_max"], [clipped]))
            out = clipped
        return out, hw_out

    x, hw, channels = "image", size, 32
    x, hw = conv(x, 3, channels, 3, 2, hw)
    for t, c_out, repeats, first_stride in MOBILENET_V2:
        for i in range(repeats):
            stride = first_stride if i == 0 else 1
            hidden = channels * t
            y, y_hw = x, hw
            if t != 1:
                y, y_hw = conv(y, channels, hidden, 1, 1, y_hw)
            y, y_hw = conv(y, hidden, hidden, 3, stride, y_hw, group=hidden)
            y, y_hw = conv(y, hidden, c_out, 1, 1, y_hw, relu=False)
            if stride == 1 and channels == c_out:
                added = name("add")
                nodes.append(helper.make_node("Add", [x, y], [added]))
                y = added
            x, hw, channels = y, y_hw, c_out
    x, hw = conv(x, channels, 1280, 1, 1, hw)
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"]))
    nodes.append(helper.make_node("Flatten", ["pooled"], ["features"], axis=1))
    fc = weight((classes, 1280), fan_in=1280)
    nodes.append(helper.make_node("Gemm", ["features", fc, bias(classes)], ["logits"], transB=1))
    counter["macs"] += 1280 * classes
    graph = helper.make_graph(
        nodes,
        "mobilenet_v2_like",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, classes])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="cqs-bench")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return {
        "parameters": counter["params"],
        "mmacs": round(counter["macs"] / 1e6, 1),
        "file_mib": round(path.stat().st_size / 2**20, 2),
        "layers_conv": sum(1 for n in nodes if n.op_type == "Conv"),
        "classes": classes,
        "input": [1, 3, size, size],
    }


# ---------------------------------------------------------------- photos


def make_photo(width: int, height: int, rng) -> bytes:
    """A JPEG that compresses like a field photo: smooth green–brown fields, noise, a few dark blobs
    (insects), EXIF orientation 6 (taken in portrait)."""
    import numpy as np
    from PIL import Image

    small = rng.integers(40, 200, size=(6, 8, 3), dtype=np.uint8)
    small[..., 1] = np.maximum(small[..., 1], 120)  # greenish
    base = Image.fromarray(small, "RGB").resize((width, height), Image.Resampling.BICUBIC)
    pixels = np.asarray(base, dtype=np.int16)
    pixels = pixels + rng.integers(-18, 18, size=pixels.shape, dtype=np.int16)
    for _ in range(12):
        cy, cx = int(rng.integers(0, height)), int(rng.integers(0, width))
        r = int(rng.integers(width // 80, width // 30))
        pixels[max(0, cy - r) : cy + r, max(0, cx - r) : cx + r] //= 3
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88, exif=exif.tobytes())
    return out.getvalue()


# ---------------------------------------------------------------- run


def catalog_classes() -> list[str]:
    """The organisms of the shipped catalog (pests/data/catalog.json) and «none», as a model trained
    for the province's catalog would output."""
    data = json.loads((c.ROOT / "src" / "chinhquyenso" / "pests" / "data" / "catalog.json").read_text("utf-8"))
    codes = [o["code"] for o in data.get("organisms", []) if not o.get("is_natural_enemy")]
    return [*codes, "none"]


def main():
    args = args_()
    width, height = (int(v) for v in args.photo_size.lower().split("x"))
    tmp = Path(tempfile.mkdtemp(prefix="bench_pests_identify-"))
    os.environ["CQS_DATA_DIR"] = str(tmp)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chinhquyenso.settings")
    os.environ.setdefault("CQS_LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(c.ROOT / "src"))
    import django

    django.setup()  # OnnxIdentifier needs no database
    try:
        run(args, tmp, width, height)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args, tmp: Path, width: int, height: int) -> None:
    import numpy as np
    import onnxruntime

    from chinhquyenso.pests.identify import OnnxIdentifier

    c.print_machine(args.pg_server)
    classes = catalog_classes() if not args.classes else [f"class-{i:04d}" for i in range(args.classes)]
    model_path, classes_path = tmp / "mobilenet_v2_like.onnx", tmp / "classes.txt"
    classes_path.write_text("\n".join(classes) + "\n", encoding="utf-8")
    started = time.perf_counter()
    model = build_mobilenet_v2(model_path, len(classes), seed=args.seed)
    print(
        f"model  MobileNetV2-like: {model['parameters']:,} parameters, {model['mmacs']:,} M multiply-adds, "
        f"{model['layers_conv']} convolutions, {model['file_mib']} MiB, {len(classes)} classes "
        f"(built in {time.perf_counter() - started:.1f} s)"
    )
    rng = np.random.default_rng(args.seed)
    photos = [make_photo(width, height, rng) for _ in range(args.photos + 1)]
    sizes = [len(p) for p in photos]
    print(f"photos {len(photos) - 1} JPEG {width}×{height}, {min(sizes) / 2**20:.1f}–{max(sizes) / 2**20:.1f} MiB")

    identifier = OnnxIdentifier(model_path, classes_path)
    identifier.predict([photos[0]])  # warm-up: the session is created here
    one = []
    for photo in photos[1:]:
        t0 = time.perf_counter()
        result = identifier.predict([photo])
        one.append(time.perf_counter() - t0)
    assert len(result) == 1 and len(result[0]) >= 3
    pairs = []
    for a, b in zip(photos[1::2], photos[2::2]):
        t0 = time.perf_counter()
        identifier.predict([a, b])
        pairs.append(time.perf_counter() - t0)

    session = onnxruntime.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    tensor = np.random.default_rng(1).standard_normal((1, 3, 224, 224)).astype(np.float32)
    input_name = session.get_inputs()[0].name
    session.run(None, {input_name: tensor})
    bare = []
    for _ in range(args.photos):
        t0 = time.perf_counter()
        session.run(None, {input_name: tensor})
        bare.append(time.perf_counter() - t0)

    path_ms, bare_ms = c.summary_ms(one), c.summary_ms(bare)
    pairs_ms = c.summary_ms(pairs) if pairs else None
    rows = [
        ["OnnxIdentifier.predict, 1 photo", path_ms["n"], path_ms["p50"], path_ms["p95"], path_ms["max"]],
        *(
            [["OnnxIdentifier.predict, 2 photos", pairs_ms["n"], pairs_ms["p50"], pairs_ms["p95"], pairs_ms["max"]]]
            if pairs_ms
            else []
        ),
        ["bare InferenceSession.run (peer)", bare_ms["n"], bare_ms["p50"], bare_ms["p95"], bare_ms["max"]],
    ]
    print()
    print(c.table(["", "n", "p50 ms", "p95 ms", "max ms"], rows))
    ratio = path_ms["p50"] / bare_ms["p50"]
    print(
        f"\nper photo p95 {path_ms['p95'] / 1000:.3f} s (goal < {GOAL_SECONDS:.0f} s; seed > {SEED_SECONDS:.0f} s): "
        f"{'met' if path_ms['p95'] / 1000 < GOAL_SECONDS else 'NOT met'}; "
        f"p50 = {ratio:.2f}× the bare inference"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"bench_pests_identify-{dt.datetime.now():%Y%m%dT%H%M%S}.json"
    out.write_text(
        json.dumps(
            {
                "machine": c.machine(args.pg_server),
                "onnxruntime": onnxruntime.__version__,
                "model": model,
                "photos": {"count": args.photos, "width": width, "height": height, "bytes_max": max(sizes)},
                "identifier_one_photo_ms": path_ms,
                "identifier_two_photos_ms": pairs_ms,
                "bare_inference_ms": bare_ms,
                "ratio_p50_to_bare": round(ratio, 2),
                "goal_met": path_ms["p95"] / 1000 < GOAL_SECONDS,
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    print(f"→ {out}")


if __name__ == "__main__":
    sys.exit(main())
