"""The worker's side of the Go <-> Python channel.

Request (one line on stdin)::

    {"op": "describe"}
    {"op": "train", "kind": "sft"|"dpo", "inputs": {"model": DIR, "data": DIR,
     "resume": DIR}, "params": {...}, "params_key": STR, "output_dir": DIR,
     "checkpoint_dir": DIR}
    {"op": "score", "checkpoint": DIR, "params": {...},
     "requests_path": FILE, "output_path": FILE}

Events (lines on stdout, in order; the last is done or error)::

    {"event": "progress", "step": N, "total": N}
    {"event": "metrics", "step": N, "values": {NAME: NUMBER}}
    {"event": "checkpoint", "step": N, "dir": DIR}
    {"event": "log", "line": STR}
    {"event": "done", "step": N, "metrics": {...}, "count": N, "describe": {...}}
    {"event": "error", "class": CLASS, "message": STR}

CLASS is one of invalid_argument, failed_precondition, not_found,
unavailable, internal; the Go side maps it onto errdefs.
"""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Any, Mapping, Optional, TextIO


class WorkerError(Exception):
    """An error with a class the Go side maps onto its error classes."""

    def __init__(self, cls: str, message: str) -> None:
        super().__init__(message)
        self.cls = cls


def invalid(msg: str) -> WorkerError:
    return WorkerError("invalid_argument", msg)


def precondition(msg: str) -> WorkerError:
    return WorkerError("failed_precondition", msg)


def not_found(msg: str) -> WorkerError:
    return WorkerError("not_found", msg)


class Fields(dict):
    """A request's JSON object whose missing field is an invalid argument
    naming it, rather than an internal KeyError: the Go side validates
    requests, so a missing field means the two sides disagree."""

    def __init__(self, d: Mapping[str, Any], where: str) -> None:
        super().__init__(d)
        self.where = where

    def __missing__(self, key: str) -> Any:
        raise invalid("%s: missing %r" % (self.where, key))


def fields(v: Any, where: str = "request") -> Any:
    """v (a decoded request) with every object a Fields."""
    if isinstance(v, dict):
        return Fields({k: fields(x, "%s.%s" % (where, k)) for k, x in v.items()}, where)
    if isinstance(v, list):
        return [fields(x, where) for x in v]
    return v


class Channel:
    """Writes events to the real stdout; stdout itself is pointed at stderr
    so that libraries that print cannot corrupt the channel."""

    def __init__(self, stream: Optional[TextIO] = None) -> None:
        if stream is None:
            fd = os.dup(1)
            os.dup2(2, 1)
            sys.stdout = sys.stderr
            stream = os.fdopen(fd, "w", encoding="utf-8", buffering=1)
        self._out = stream

    def send(self, event: str, **fields: Any) -> None:
        fields["event"] = event
        self._out.write(json.dumps(_finite(fields), separators=(",", ":")) + "\n")
        self._out.flush()

    def progress(self, step: int, total: int) -> None:
        self.send("progress", step=step, total=total)

    def metrics(self, step: int, values: Mapping[str, float]) -> None:
        self.send("metrics", step=step, values=values)

    def checkpoint(self, step: int, path: str) -> None:
        self.send("checkpoint", step=step, dir=path)

    def log(self, line: str) -> None:
        self.send("log", line=line)

    def done(self, **fields: Any) -> None:
        self.send("done", **fields)

    def error(self, cls: str, message: str) -> None:
        self.send("error", **{"class": cls, "message": message})


def _finite(v):
    """JSON has no NaN or infinities: they travel as null."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    return v
