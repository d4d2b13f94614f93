"""Benchmark: verifying the signatures of a signed 2-page PDF — PDFs verified per second.

    .venv/bin/python benchmarks/bench_verify.py [--rounds 50] [--backend sqlite|postgres]

On a fresh database and a fresh test PKI (chinhquyenso.signing.pki, its TSA/OCSP/CRL process started here
as in the tests), one agency with a PKCS#12 key signs the same 2-page PDF (chinhquyenso.signing.pki.
sample_pdf) through the platform's service (signing.services.sign_pdf, with the agency's visible
appearance), once as PAdES-B-B and once as B-T against the local TSA. Each file is then verified
--rounds times by each variant, interleaved so that the machine's drift hits all alike:

- bare: pyHanko's own `validate_pdf_signature` on the same bytes (parse, one ValidationContext with the
  test root, the default difference analysis) — the limit;
- verify_pdf: the platform's verification (signing.verify: parse, signatures collected one by one, the
  DSS read, validation, time stamp, revocation and modification judged, the report built);
- API: `POST /api/signatures/verify` through Django's test client (multipart parsing, the per-address
  counter in the cache, the JSON answer) — what a caller of the API waits for, less the network.

Revocation fetching is off (CQS["SIGNING_FETCH_REVOCATION"] = 0, the default): nothing is fetched by any
variant, so the numbers are CPU only. PDFs per second (one process, sequential), p50/p95 and the ratio
of the p95s to bare. Results go to benchmarks/results/bench_verify-<backend>-<time>.json.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import sys
import time

import _common as c
import _signing

RESULTS = c.ROOT / "benchmarks" / "results"


def args_():
    p = c.parser("Verifying a signed 2-page PDF (B-B, B-T): signing.verify and the API against bare pyHanko.")
    p.add_argument("--rounds", type=int, default=50, help="verifications per variant and file (default %(default)s)")
    return p.parse_args()


def run(args) -> None:
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from chinhquyenso.signing import pki
    from chinhquyenso.signing.pki_server import start_pki_services
    from chinhquyenso.signing.services import Appearance, sign_pdf
    from chinhquyenso.signing.verify import overall, verify_pdf

    made = _signing.agency_key("cqs-bench-verify-pki-")
    directory, built, key = made.directory, made.pki, made.key
    document = pki.sample_pdf(pages=2)
    root = load_cert_from_pemder(str(built.root_cert_path))

    with start_pki_services(directory) as url:
        settings.CQS = {
            **settings.CQS,
            "SIGNING_TSA_URL": f"{url}/tsa",
            "SIGNING_TRUST_ROOTS": [str(built.root_cert_path)],
            "SIGNING_FETCH_REVOCATION": False,
            "SIGNING_VERIFY_PER_IP_PER_MINUTE": 10**9,  # the benchmark is one address asking on purpose
        }
        appearance = Appearance(kind="agency", lines=("Số: 12/QĐ-STP",))
        files = {
            profile: sign_pdf(document, key=key, profile=profile, appearance=appearance) for profile in ("B-B", "B-T")
        }

    def bare(data: bytes) -> bool:
        reader = PdfFileReader(io.BytesIO(data))

        async def validate():
            context = ValidationContext(trust_roots=[root])
            return [await async_validate_pdf_signature(s, context) for s in reader.embedded_signatures]

        return all(status.bottom_line for status in asyncio.run(validate()))

    client = Client()

    def api(data: bytes) -> bool:
        response = client.post("/api/signatures/verify", {"file": SimpleUploadedFile("a.pdf", data)})
        return response.status_code == 200 and response.json()["status"] == "valid"

    variants = {
        "bare pyHanko": bare,
        "verify_pdf": lambda data: overall(verify_pdf(data)) == "valid",
        "API": api,
    }
    results = {}
    for profile, data in files.items():
        for name, check in variants.items():  # warm-up, and every variant must find the file valid
            assert check(data), f"{name} did not find the {profile} file valid"
        times = {name: [] for name in variants}
        for _ in range(args.rounds):
            for name, check in variants.items():
                started = time.perf_counter()
                check(data)
                times[name].append(time.perf_counter() - started)
        results[profile] = {name: c.summary_ms(values) for name, values in times.items()}
        results[profile]["file bytes"] = len(data)

    c.print_machine(args.pg_server)
    rows = []
    for profile, by_variant in results.items():
        limit = by_variant["bare pyHanko"]["p95"]
        for name in variants:
            s = by_variant[name]
            rows.append([profile, name, s["n"], 1000 / s["mean"], s["p50"], s["p95"], f"{s['p95'] / limit:.2f}×"])
    print(c.table(["profile", "variant", "n", "PDFs/s", "p50 ms", "p95 ms", "p95 / bare"], rows))
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"bench_verify-{args.backend}-{stamp}.json"
    out.write_text(json.dumps({"machine": c.machine(args.pg_server), "results": results}, indent=1, default=str))
    print(f"\nResults: {out}")


if __name__ == "__main__":
    arguments = args_()
    sys.path.insert(0, str(c.ROOT))
    c.run_on_fresh_database(arguments, "cqs_bench_verify", run)
