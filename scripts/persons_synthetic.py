"""Write a synthetic health-records export with known truth (persons.synthetic), for trying the master
person index's import and linking and for measuring them (docs/persons.md).

    .venv/bin/python scripts/persons_synthetic.py OUT.csv --people 10000 [--seed 1] [--stats]

OUT.csv has the columns of the import template (persons.importer.HEADERS); OUT.truth.csv beside it
says which person each row is and which errors it carries. The same as
`cqs persons generate-synthetic OUT.csv --people N`. Nothing in it is a real person.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="CSV file to write (the truth goes to OUT.truth.csv)")
    parser.add_argument("--people", type=int, required=True, help="people in the population")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default %(default)s)")
    parser.add_argument("--stats", action="store_true", help="print the measured proportions as JSON")
    args = parser.parse_args(argv)
    if args.people < 1:
        parser.error("--people must be at least 1")
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chinhquyenso.settings")
    import django

    django.setup()
    from chinhquyenso.persons import synthetic

    stats = synthetic.write_csv(args.out, args.people, args.seed)
    print(
        f"{stats['records']:,} records of {stats['people']:,} people ({stats['duplicates']:,} duplicates) → "
        f"{args.out}, truth → {synthetic.truth_path(args.out)}"
    )
    if args.stats:
        print(json.dumps(stats, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
