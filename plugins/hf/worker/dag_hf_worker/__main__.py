"""Entry point: python -m dag_hf_worker. Serves one request (channel.py)."""

from __future__ import annotations

import json
import sys
import traceback

from . import probe
from .channel import Channel, WorkerError, fields, invalid


def serve(chan: Channel, line: str) -> None:
    try:
        req = fields(json.loads(line))
    except ValueError as e:
        raise invalid("request is not JSON: %s" % e)
    op = req.get("op")
    if op == "describe":
        chan.done(describe=probe.describe())
        return
    d = probe.describe()
    if not d["ready"]:
        raise WorkerError("failed_precondition", d["problem"])
    from . import backend
    backend.setup_torch()
    if op == "train":
        from . import train
        chan.done(**train.run(req, chan))
    elif op == "score":
        from . import serve_score
        chan.done(**serve_score.run(req, chan))
    else:
        raise WorkerError("invalid_argument", "unknown op %r" % op)


def classify(exc: BaseException) -> str:
    """The class of an unexpected exception: out of memory is transient."""
    name = type(exc).__name__
    if name == "OutOfMemoryError" or "out of memory" in str(exc).lower():
        return "unavailable"
    if isinstance(exc, FileNotFoundError):
        return "not_found"
    if isinstance(exc, ImportError):
        return "failed_precondition"
    return "internal"


def main() -> int:
    chan = Channel()
    line = sys.stdin.readline()
    if not line.strip():
        chan.error("invalid_argument", "no request on stdin")
        return 2
    try:
        serve(chan, line)
    except WorkerError as e:
        chan.error(e.cls, str(e))
        return 1
    except Exception as e:
        traceback.print_exc(file=sys.stderr)
        chan.error(classify(e), "%s: %s" % (type(e).__name__, e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
