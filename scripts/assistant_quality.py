"""Print the assistant's quality figures (docs/assistant.md, "Chất lượng") on a fresh database.

    .venv/bin/python scripts/assistant_quality.py [--backend sqlite|postgres] [--misses]

Loads the full catalog (tests/assistant/quality.py `load_catalog`: the demo province's agencies
and procedures, the national list, the default synonyms, the FAQ entries) into a throw-away
database (benchmarks/_common.py), then measures tests/assistant/data/questions.json: top-1 and
top-3 of assistant.index.search, "says it does not know" and confident answers through
assistant.answers.ask. Markdown on stdout.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT)]

import _common as c  # noqa: E402


def run(args):
    from django.db import transaction

    from tests.assistant import quality

    started = time.perf_counter()
    from chinhquyenso.procedures.models import Procedure

    with transaction.atomic():
        loaded = quality.load_catalog()
        procedures = Procedure.objects.filter(is_active=True).count()
        result = quality.evaluate()
        transaction.set_rollback(True)
    print(
        f"Catalog: {procedures} procedures (the demo catalog and the national list), {loaded['faq']} FAQ entries; "
        f"{len(quality.questions())} questions ({time.perf_counter() - started:.0f} s)\n"
    )
    print(quality.figures_table(result))
    if result.judged_by.startswith("answers"):
        print(
            f"\nConfident answers about an expected procedure: {result.confident_right} of {result.ranked} "
            f"({quality.pct(result.share(result.confident_right, result.ranked))}); confident about another "
            f"procedure: {result.wrong_confident} ({quality.pct(result.share(result.wrong_confident, result.ranked))})."
        )
    if args.misses:
        print("\n" + "\n".join(result.misses))


def main():
    p = c.parser("The assistant's quality figures on the question set.")
    p.add_argument("--misses", action="store_true", help="also list every question not answered first")
    args = p.parse_args()
    c.run_on_fresh_database(args, "cqs_assistant_quality", run)


if __name__ == "__main__":
    main()
