"""Benchmark: ranked procedure search and the assistant at a province's catalog size and ten times it.

    .venv/bin/python benchmarks/bench_assistant.py --backend sqlite
    .venv/bin/python benchmarks/bench_assistant.py --backend postgres

On a fresh database:

1. Catalog (untimed): the full catalog of the quality tests (tests/assistant/quality.py
   `load_catalog`: the demo province's agencies and 137 procedures, the 758 of the national list,
   the synonyms, the FAQ entries), then synthetic variants up to each size of --sizes (default
   2,000 and 20,000): a copy of a real procedure (its components and steps too) under a new code,
   its name extended by two to four syllables drawn from the catalog's own words, so the
   vocabulary and the documents' lengths grow as a bigger catalog's would. Written with
   bulk_create.
2. At each size, over every question of tests/assistant/data/questions.json (--rounds times):
   - `assistant.index.search` (warm index in memory) against the current all-words search
     `procedures.selectors.search_procedures` (the query evaluated, 20 rows) in the same run: p50,
     p95 and the ratio of the p95s;
   - `assistant.answers.ask` (the whole answer: intent, search, confidence, composing from the
     catalog, the log of unanswered questions);
   - the index rebuilt after a catalog edit (one procedure renamed through
     procedures.services.save_procedure, then `index.current()` after `invalidate()`: the version
     check and the rebuild), and the version check alone (what every process pays once per
     index.CHECK_SECONDS);
   - the index's memory: the peak of Python allocations (tracemalloc, which numpy reports to)
     while building it, and what the built index keeps.

Results go to benchmarks/results/bench_assistant-<backend>-<time>.json.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import logging
import random
import sys
import time
import tracemalloc

import _common as c

RESULTS = c.ROOT / "benchmarks" / "results"
sys.path.insert(0, str(c.ROOT))


def args_():
    p = c.parser("Ranked procedure search and the assistant at 2,000 and 20,000 procedures.")
    p.add_argument("--sizes", default="2000,20000", help="catalog sizes, comma-separated (default %(default)s)")
    p.add_argument("--rounds", type=int, default=1, help="passes over the question set per size (default %(default)s)")
    p.add_argument("--builds", type=int, default=3, help="timed rebuilds per size (default %(default)s)")
    p.add_argument("--seed", type=int, default=18)
    return p.parse_args()


def grow_to(size: int, rng: random.Random) -> int:
    """Synthetic variants of the real procedures until the catalog has `size` active ones."""
    from django.db import transaction

    from chinhquyenso.assistant.text import syllables
    from chinhquyenso.core.text import fold
    from chinhquyenso.procedures.models import Procedure, ProcessStep, RequiredComponent

    have = Procedure.objects.filter(is_active=True).count()
    if have >= size:
        return have
    real = list(Procedure.objects.filter(code__regex=r"^[12]\.").prefetch_related("components", "steps"))
    words = sorted({s for p in real for s in p.name.split() if len(syllables(s)) == 1 and s.isalpha()})
    start = Procedure.objects.filter(code__startswith="9.").count()
    with transaction.atomic():
        batch = []
        for n in range(start, start + size - have):
            base = rng.choice(real)
            extra = " ".join(rng.sample(words, rng.randint(2, 4)))
            name = f"{base.name} {extra}"[:500]
            batch.append(
                (
                    base,
                    Procedure(
                        code=f"9.{n:06d}",
                        name=name,
                        name_folded=fold(name),
                        field_id=base.field_id,
                        levels=base.levels,
                        service_level=base.service_level,
                        processing_days=base.processing_days,
                        fee=base.fee,
                        charge=base.charge,
                        online_discount_percent=base.online_discount_percent,
                        result_type=base.result_type,
                        result_name=base.result_name,
                        legal_basis=base.legal_basis,
                    ),
                )
            )
        for i in range(0, len(batch), 2000):
            chunk = batch[i : i + 2000]
            created = Procedure.objects.bulk_create([p for _, p in chunk])
            if created and created[0].pk is None:  # a backend that does not return keys
                ids = dict(Procedure.objects.filter(code__in=[p.code for p in created]).values_list("code", "id"))
                for p in created:
                    p.pk = ids[p.code]
            components, steps = [], []
            for (base, _), p in zip(chunk, created):
                components += [
                    RequiredComponent(
                        procedure_id=p.pk,
                        order=x.order,
                        name=x.name,
                        originals=x.originals,
                        copies=x.copies,
                        mandatory=x.mandatory,
                        reusable_result_type=x.reusable_result_type,
                    )
                    for x in base.components.all()
                ]
                steps += [
                    ProcessStep(procedure_id=p.pk, order=s.order, name=s.name, role=s.role, days=s.days)
                    for s in base.steps.all()
                ]
            RequiredComponent.objects.bulk_create(components, batch_size=2000)
            ProcessStep.objects.bulk_create(steps, batch_size=2000)
    return Procedure.objects.filter(is_active=True).count()


def timed(fn, items) -> list[float]:
    out = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - t)
    return out


def measure(size: int, args) -> dict:
    from chinhquyenso.assistant import answers, index
    from chinhquyenso.procedures import selectors
    from chinhquyenso.procedures import services as procedures
    from tests.assistant import quality

    questions = [q["question"] for q in quality.questions()] * args.rounds
    index.invalidate()
    t = time.perf_counter()
    index.current()
    first_build = time.perf_counter() - t
    index.search("khai sinh")
    search = timed(lambda q: index.search(q, limit=20), questions)
    baseline = timed(lambda q: list(selectors.search_procedures(q, limit=20)), questions)
    answer = timed(lambda q: answers.ask(q, channel="bench"), questions)

    rebuild = []
    (entry,) = selectors.catalog_entries(["1.001193"])  # save_procedure's own input, unchanged
    for _ in range(args.builds):
        procedures.save_procedure(actor=None, data=entry)  # saved again: updated_at moves
        index.invalidate()
        t = time.perf_counter()
        index.current()
        rebuild.append(time.perf_counter() - t)
    check = timed(lambda _: index.catalog_version(), range(20))

    index._state["index"] = None
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    built = index.build()
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    index._state["index"] = built
    s, b, a = c.summary_ms(search), c.summary_ms(baseline), c.summary_ms(answer)
    return {
        "procedures": size,
        "terms": sum(len(r.vocab_dict) for r in built.retrievers.values()),
        "first_build_s": first_build,
        "search_ms": s,
        "all_words_ms": b,
        "ratio_p95": s["p95"] / b["p95"],
        "ratio_p50": s["p50"] / b["p50"],
        "answer_ms": a,
        "rebuild_s": {"p50": c.percentile(rebuild, 50), "max": max(rebuild)},
        "version_check_ms": c.summary_ms(check),
        "memory_peak_mib": (peak - before) / 2**20,
        "memory_kept_mib": (kept - before) / 2**20,
    }


def run(args):
    from tests.assistant import quality

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    rng = random.Random(args.seed)
    c.print_machine(args.pg_server)
    t = time.perf_counter()
    quality.load_catalog()
    print(f"Catalog loaded in {time.perf_counter() - t:.1f} s")
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        t = time.perf_counter()
        n = grow_to(size, rng)
        print(f"\n{n} procedures (synthetic variants written in {time.perf_counter() - t:.1f} s)", flush=True)
        rows.append(measure(n, args))
        r = rows[-1]
        print(
            f"  search p50 {r['search_ms']['p50']:.2f} ms p95 {r['search_ms']['p95']:.2f} ms; all-words p50 "
            f"{r['all_words_ms']['p50']:.2f} p95 {r['all_words_ms']['p95']:.2f}; answer p95 "
            f"{r['answer_ms']['p95']:.2f}; rebuild {r['rebuild_s']['p50']:.2f} s; peak {r['memory_peak_mib']:.0f} MiB",
            flush=True,
        )
    print()
    print(
        c.table(
            [
                "procedures",
                "search p50 ms",
                "search p95 ms",
                "all-words p50 ms",
                "all-words p95 ms",
                "p95 ratio",
                "answer p50 ms",
                "answer p95 ms",
                "rebuild after an edit s",
                "version check ms",
                "index peak MiB",
                "index kept MiB",
            ],
            [
                [
                    r["procedures"],
                    r["search_ms"]["p50"],
                    r["search_ms"]["p95"],
                    r["all_words_ms"]["p50"],
                    r["all_words_ms"]["p95"],
                    r["ratio_p95"],
                    r["answer_ms"]["p50"],
                    r["answer_ms"]["p95"],
                    r["rebuild_s"]["p50"],
                    r["version_check_ms"]["p50"],
                    r["memory_peak_mib"],
                    r["memory_kept_mib"],
                ]
                for r in rows
            ],
        )
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M")
    out = RESULTS / f"bench_assistant-{args.backend}-{stamp}.json"
    out.write_text(json.dumps({"machine": c.machine(args.pg_server), "rows": rows}, indent=1, default=str))
    print(f"\nResults: {out.relative_to(c.ROOT)}")


if __name__ == "__main__":
    arguments = args_()
    c.run_on_fresh_database(arguments, "cqs_bench_assistant", run)
