"""Helpers shared by the GPU check's stages (scripts/gpu-check.sh): the
report each stage writes, time budgets, and running gpucheck and dag as
child processes that are stopped cleanly when their time is up."""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import traceback

START = float(os.environ.get("GPU_CHECK_START") or time.time())


def say(msg):
    print("gpu-check [%4.0fs] %s" % (time.time() - START, msg), file=sys.stderr, flush=True)


class Clock:
    """Seconds left until a deadline (a Unix time)."""

    def __init__(self, deadline):
        self.deadline = float(deadline)

    def left(self):
        return self.deadline - time.time()

    def allows(self, seconds):
        return self.left() >= seconds


class Report:
    """A stage's JSON report. It is written whole (beside, then renamed)
    after every change, so that a stage cut short leaves what it did:
    {"stage", "status": running|done, "checks": {NAME: {"status":
    passed|failed|skipped, ...figures}}, ...}."""

    def __init__(self, path, stage, **fields):
        self.path = path
        self.doc = {"stage": stage, "status": "running", "started_at": round(time.time() - START, 1)}
        self.doc.update(fields)
        self.doc["checks"] = {}
        self.save()

    def set(self, key, value):
        self.doc[key] = value
        self.save()

    def record(self, name, status, /, **figures):
        entry = dict(figures)
        entry["status"] = status
        self.doc["checks"][name] = entry
        self.save()
        say("%s: %s %s" % (name, status.upper(), _brief(figures)))
        return entry

    def failed(self, exc):
        """Records an error outside any check (the stage stops)."""
        self.record("stage_error", "failed", error="%s: %s" % (type(exc).__name__, str(exc)[-2000:]))

    def finish(self):
        checks = self.doc["checks"].values()
        self.doc["passed"] = sum(1 for c in checks if c["status"] == "passed")
        self.doc["failed"] = sum(1 for c in checks if c["status"] == "failed")
        self.doc["skipped"] = sum(1 for c in checks if c["status"] == "skipped")
        self.doc["status"] = "done"
        self.doc["seconds"] = round(time.time() - START - self.doc["started_at"], 1)
        self.save()

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.doc, f, indent=2, sort_keys=True, default=str)
            f.write("\n")
        os.replace(tmp, self.path)


def _brief(figures, limit=300):
    s = json.dumps(figures, sort_keys=True, default=str)
    return s if len(s) <= limit else s[:limit] + "..."


class Skip(Exception):
    """Raised by a check that does not apply; its message is the reason."""


def run_check(report, name, fn, *args, **kwargs):
    """Runs fn, which returns (passed, figures); records passed or failed
    with the figures, or skipped when fn raises Skip. Any other exception
    is a failure with its message (the traceback goes to the log), so later
    checks still run. Returns the figures (None unless it passed or
    failed)."""
    began = time.time()
    try:
        passed, figures = fn(*args, **kwargs)
    except Skip as e:
        report.record(name, "skipped", reason=str(e))
        return None
    except Exception as e:  # a failing check must not stop the stage
        traceback.print_exc(file=sys.stderr)
        report.record(name, "failed", error="%s: %s" % (type(e).__name__, str(e)[-2000:]),
                      seconds=round(time.time() - began, 1))
        return None
    figures = dict(figures, seconds=round(time.time() - began, 1))
    report.record(name, "passed" if passed else "failed", **figures)
    return figures


class ChildError(Exception):
    """A child process failed; the message ends with its stderr tail."""


def run(cmd, timeout, env=None, log_files=(), cwd=None):
    """Runs cmd, forwarding its stderr to ours, and returns its stdout. A
    non-zero exit or a timeout raises ChildError with the tail of stderr
    and of each of log_files (the plugin's log, with the worker's
    traceback)."""
    rc, out = run_status(cmd, timeout, env, log_files, cwd, check=True)
    return out


def run_status(cmd, timeout, env=None, log_files=(), cwd=None, check=False):
    """Runs cmd and returns (exit status, stdout). When timeout seconds
    pass it gets SIGINT (gpucheck and dag cancel their call and stop their
    plugins on it), then SIGKILL 15 s later, and ChildError is raised. With
    check, a non-zero exit raises ChildError too."""
    say("$ " + " ".join(cmd))
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd, text=True)
    timed_out = False
    try:
        out, err = p.communicate(timeout=max(timeout, 1))
    except subprocess.TimeoutExpired:
        timed_out = True
        p.send_signal(signal.SIGINT)
        try:
            out, err = p.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
    if err:
        sys.stderr.write(err if err.endswith("\n") else err + "\n")
        sys.stderr.flush()
    if timed_out or (check and p.returncode != 0):
        why = "timed out after %.0fs" % timeout if timed_out else "exit status %d" % p.returncode
        tail = err[-1500:]
        for path in log_files:
            tail += "\n--- %s:\n%s" % (path, _tail(path, 3000))
        raise ChildError("%s: %s\n%s" % (os.path.basename(cmd[0]), why, tail))
    if p.returncode != 0:
        for path in log_files:
            sys.stderr.write("--- %s:\n%s\n" % (path, _tail(path, 3000)))
    return p.returncode, out


def _tail(path, n):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(f.tell() - n, 0))
            return f.read().decode("utf-8", "replace")
    except OSError as e:
        return "(%s)" % e


class Driver:
    """gpucheck, the Go driver that launches dag-plugin-hf through
    plugins/host and makes one call."""

    def __init__(self, bin_dir, env=None):
        self.gpucheck = os.path.join(bin_dir, "gpucheck")
        self.plugin = os.path.join(bin_dir, "dag-plugin-hf")
        self.env = env

    def call(self, sub, timeout, log, **flags):
        """Runs `gpucheck SUB -plugin P -log LOG -FLAG VALUE...` and
        returns its JSON document. Values that are not strings are passed
        as JSON (params)."""
        cmd = [self.gpucheck, sub, "-plugin", self.plugin, "-log", log]
        for k, v in flags.items():
            cmd += ["-" + k.replace("_", "-"), v if isinstance(v, str) else json.dumps(v)]
        return json.loads(run(cmd, timeout, env=self.env, log_files=[log]))


def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def stage_args(*extra):
    """The arguments gpu-check.sh gives every stage, plus extra ones as
    (flag, argparse keywords) pairs; the work folder is made."""
    ap = argparse.ArgumentParser()
    for flag in ("--bin", "--out", "--work"):
        ap.add_argument(flag, required=True)
    ap.add_argument("--deadline", type=float, required=True)
    ap.add_argument("--toy", action="store_true")
    for flag, kw in extra:
        ap.add_argument(flag, **kw)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    return a


def run_stage(report, run, cleanup=None):
    """Runs a stage; an exception is recorded in the report, so that it
    says why the stage stopped, and the report is written in any case."""
    try:
        run()
    except Exception as e:
        traceback.print_exc()
        report.failed(e)
    finally:
        if cleanup:
            cleanup()
        report.finish()
