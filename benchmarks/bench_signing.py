"""Benchmark: signing a 2-page PDF with a PKCS#12 key, PAdES-B-B and B-T against the local TSA process.

    .venv/bin/python benchmarks/bench_signing.py [--rounds 50] [--backend sqlite|postgres]

On a fresh database and a fresh test PKI (chinhquyenso.signing.pki, its TSA/OCSP/CRL process started
here as in the tests), one agency with a PKCS#12 key. For each profile, --rounds signatures of the same
2-page PDF (chinhquyenso.signing.pki.sample_pdf), interleaved so that the machine's drift hits all alike:

- bare: pyHanko's own `signers.sign_pdf` with the signer loaded once, invisible signature — the limit;
- sign_pdf, invisible: the platform's service (reads the passphrase and opens the PKCS#12 file, checks
  the certificate's dates, signs, writes the audit record in its own transaction);
- sign_pdf, visible: the same with the agency's appearance (seal image, Vietnamese text in an embedded,
  subset TrueType font), as documents and e-results are signed.

Signatures per second (one process, sequential) and p50/p95 of each, and the ratio of the p95s to bare.
Results go to benchmarks/results/bench_signing-<backend>-<time>.json.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
import time

import _common as c
import _signing

RESULTS = c.ROOT / "benchmarks" / "results"


def args_():
    p = c.parser("PAdES signing (B-B, B-T) of a 2-page PDF: the signing service against bare pyHanko.")
    p.add_argument("--rounds", type=int, default=50, help="signatures per variant and profile (default %(default)s)")
    return p.parse_args()


def run(args) -> None:
    from django.conf import settings
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter
    from pyhanko.sign.timestamps import HTTPTimeStamper

    from chinhquyenso.signing import pki
    from chinhquyenso.signing.pki_server import start_pki_services
    from chinhquyenso.signing.services import Appearance, sign_pdf
    from chinhquyenso.signing.signers import load_pkcs12_signer

    made = _signing.agency_key("cqs-bench-pki-")
    directory, built, issued, key = made.directory, made.pki, made.issued, made.key
    document = pki.sample_pdf(pages=2)
    bare_signer = load_pkcs12_signer(str(issued.p12_path), built.passphrase.encode())

    results = {}
    with start_pki_services(directory) as url:
        settings.CQS = {
            **settings.CQS,
            "SIGNING_TSA_URL": f"{url}/tsa",
            "SIGNING_TRUST_ROOTS": [str(built.root_cert_path)],
        }

        def bare(profile):
            timestamper = HTTPTimeStamper(f"{url}/tsa") if profile == "B-T" else None
            metadata = signers.PdfSignatureMetadata(field_name="ChuKySo1", subfilter=SigSeedSubFilter.PADES)
            writer = IncrementalPdfFileWriter(io.BytesIO(document))
            return signers.sign_pdf(writer, metadata, signer=bare_signer, timestamper=timestamper).getvalue()

        variants = {
            "bare pyHanko": bare,
            "sign_pdf, invisible": lambda profile: sign_pdf(document, key=key, profile=profile),
            "sign_pdf, visible": lambda profile: sign_pdf(
                document, key=key, profile=profile, appearance=Appearance(kind="agency", lines=("Số: 12/QĐ-STP",))
            ),
        }
        for profile in ("B-B", "B-T"):
            for run_variant in variants.values():  # warm-up: imports, font loading, first TSA connection
                run_variant(profile)
            times = {name: [] for name in variants}
            for _ in range(args.rounds):
                for name, run_variant in variants.items():
                    started = time.perf_counter()
                    run_variant(profile)
                    times[name].append(time.perf_counter() - started)
            results[profile] = {name: c.summary_ms(values) for name, values in times.items()}

    c.print_machine(args.pg_server)
    rows = []
    for profile, by_variant in results.items():
        limit = by_variant["bare pyHanko"]["p95"]
        for name, s in by_variant.items():
            rows.append([profile, name, s["n"], 1000 / s["mean"], s["p50"], s["p95"], f"{s['p95'] / limit:.2f}×"])
    print(c.table(["profile", "variant", "n", "signatures/s", "p50 ms", "p95 ms", "p95 / bare"], rows))
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"bench_signing-{args.backend}-{stamp}.json"
    out.write_text(json.dumps({"machine": c.machine(args.pg_server), "results": results}, indent=1, default=str))
    print(f"\nResults: {out}")


if __name__ == "__main__":
    arguments = args_()
    sys.path.insert(0, str(c.ROOT))
    c.run_on_fresh_database(arguments, "cqs_bench_signing", run)
