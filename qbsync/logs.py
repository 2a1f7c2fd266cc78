"""Logging to the platform log dir: one line per event, secrets masked."""

from __future__ import annotations

import logging
import logging.handlers

from qbsync import paths
from qbsync.redact import RedactingFilter

LOG_NAME = "qbsync"
_FORMAT = "%(asctime)s %(levelname)s %(name)s pid=%(process)d %(message)s"
_handler: logging.Handler | None = None


def log_file():
    return paths.log_dir() / "qbsync.log"


def setup_logging(level: int = logging.INFO) -> None:
    """Attach the file handler once per log file (tests switch QBSYNC_HOME between runs)."""
    global _handler
    target = log_file()
    if _handler is not None and getattr(_handler, "baseFilename", None) == str(target):
        return
    logger = logging.getLogger(LOG_NAME)
    if _handler is not None:
        logger.removeHandler(_handler)
        _handler.close()
    paths.touch_private(target)
    handler = logging.handlers.RotatingFileHandler(
        target, maxBytes=5_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    _handler = handler


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"{LOG_NAME}.{name}")
