"""The LOGGING setting, built here so `cqs demo` can rebuild it with a log file without importing
the settings module. Imports nothing of Django: settings.py loads it before Django is set up."""

import os
from pathlib import Path


def logging_config(log_file: str = "") -> dict:
    """The LOGGING setting. With `log_file` every line goes to that file and the console
    shows warnings and errors only (`cqs demo` writes $CQS_DATA_DIR/logs/demo.log, so the
    worker's and the web server's INFO lines do not scroll its printed accounts away)."""
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        # Every line and traceback with ID numbers, phones and e-mails masked (core.privacy, Decree 13/2023).
        "formatters": {
            "plain": {
                "()": "chinhquyenso.core.privacy.MaskingFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "root": {"handlers": ["console"], "level": os.environ.get("CQS_LOG_LEVEL", "INFO")},
        # httpx logs full request URLs at INFO; URLs may carry identifiers.
        "loggers": {
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
            # PDF rendering reports every step at INFO.
            "weasyprint": {"level": "WARNING"},
            "fontTools": {"level": "WARNING"},
            # The assistant's BM25 library reports each index it builds (six per rebuild) at DEBUG.
            "bm25s": {"level": "WARNING"},
            # Splink (the master person index) reports every training step, and warns of each comparison level
            # a training block could not estimate — expected on a small frame; the run's figures are kept on
            # the LinkRun and LinkModel rows instead.
            "splink": {"level": "ERROR"},
            # pyHanko logs each failed check of a signature with the certificate's subject (a person's name)
            # and a traceback; the verification page tells the person who uploaded the file, the log keeps none.
            "pyhanko.sign.validation": {"level": "CRITICAL"},
            "pyhanko.sign.diff_analysis": {"level": "CRITICAL"},
            "pyhanko_certvalidator": {"level": "CRITICAL"},
        },
    }
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        config["handlers"]["console"]["level"] = "WARNING"
        config["handlers"]["file"] = {
            "class": "logging.FileHandler",
            "filename": str(log_file),
            "encoding": "utf-8",
            "formatter": "plain",
        }
        config["root"]["handlers"].append("file")
        # Django's own handlers (runserver's request lines, DEBUG's console) would bypass the file:
        # its loggers log through the root's handlers instead.
        config["loggers"]["django"] = {"handlers": [], "level": "INFO", "propagate": True}
        config["loggers"]["django.server"] = {"handlers": [], "level": "INFO", "propagate": True}
    return config
