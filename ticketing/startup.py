"""What a process says when it starts: the start warnings of config.start_warnings, once each."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)
_warned: set[str] = set()  # the warnings this process has logged


def warn_at_start(warnings: list[str]) -> None:
    """Log each start warning once per process (tests and commands may build several apps)."""
    for warning in warnings:
        if warning not in _warned:
            _warned.add(warning)
            log.warning(warning)
