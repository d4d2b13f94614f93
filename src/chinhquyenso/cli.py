"""`cqs` — a thin wrapper over Django management commands.

cqs demo              migrate, build the demo province if empty, run server + worker
cqs seed-demo         build the demo province (see --help)
cqs serve             the production web server (gunicorn; --bind, --workers)
cqs worker            run background tasks and scheduled jobs
cqs backup DIR        back up database, uploaded files, audit checkpoints and keys (while running)
cqs restore DIR       verify a backup and restore it (--force to overwrite), then migrate, rebuild-facts, audit verify
cqs audit verify      check the audit chain against its signed checkpoints
cqs audit checkpoint  sign a checkpoint of the audit chain now
cqs import-dossiers F load historical dossiers from JSON Lines
cqs import-civil F    load a commune's civil-status register list (CSV/XLSX; --type, --commune)
cqs import-catalog F  load the procedure catalog (JSON or XLSX)
cqs export-catalog F  write the procedure catalog (.json or .xlsx)
cqs report check F    verify the ratios and totals printed in a report (TXT, DOCX or PDF)
cqs open311-client    Open311 API keys of applications: issue NAME, list, revoke NAME
cqs unlock-login U    clear sign-in failures of an account (or --ip ADDRESS)
cqs <any manage.py command>
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chinhquyenso.settings")
    if argv[:1] == ["demo"]:
        # The demo serves plain http://127.0.0.1, where browsers drop Secure cookies.
        os.environ.setdefault("CQS_INSECURE_COOKIES", "1")
        # Links in the demo's e-mails and notices point at the demo server (a production site sets its own).
        os.environ.setdefault("CQS_SITE_URL", "http://127.0.0.1:8000")
    if argv and "-" in argv[0] and argv[0] not in ("--help", "-h"):
        argv[0] = argv[0].replace("-", "_")  # cqs seed-demo → seed_demo
    if argv[:1] in (["--help"], ["-h"], []):
        print(__doc__)
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(["cqs", *argv])


if __name__ == "__main__":
    main()
