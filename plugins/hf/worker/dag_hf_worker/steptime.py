"""Where a training step's time goes, for performance checks.

With DAG_HF_PROFILE=N (N >= 1) the training loop measures, for every step
after the first N: the data preparation on the host (collation and the copy
to the device), and the device time of the forward passes (model and
loss), the backward passes and the optimizer (clipping, AdamW, zeroing the
gradients). Device times come from CUDA events, which queue with the work
and cost no synchronisation; the step's own synchronisation (its loss
value) makes them readable. Without CUDA every phase is host wall time.
The means are reported as metrics named time_<phase>_s, with
time_step_s the host wall time of a whole step.
"""

from __future__ import annotations

import os
import time
from typing import Any, ContextManager, Dict


def from_env() -> Any:
    """A StepTimer when DAG_HF_PROFILE asks for one, else a disabled one."""
    try:
        skip = int(os.environ.get("DAG_HF_PROFILE", "0") or "0")
    except ValueError:
        skip = 0
    return StepTimer(enabled=skip > 0, skip=max(skip, 0))


class _Span:
    def __init__(self, timer, name):
        self.timer, self.name = timer, name

    def __enter__(self):
        self.start = self.timer._mark()
        return self

    def __exit__(self, *exc):
        self.timer._open.append((self.name, self.start, self.timer._mark()))
        return False


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


PHASES = ("data", "forward", "backward", "optimizer")


class StepTimer:
    def __init__(self, enabled=False, skip=1, cuda=None):
        self.enabled = enabled
        self.skip = skip
        if cuda is None:
            cuda = False
            if enabled:
                import torch

                cuda = torch.cuda.is_available()
        self.cuda = cuda
        self.steps = 0
        self.sums = dict.fromkeys(PHASES + ("step",), 0.0)
        self._open = []
        self._began = None

    def _mark(self):
        if self.cuda:
            import torch

            e = torch.cuda.Event(enable_timing=True)
            e.record()
            return e
        return time.perf_counter()

    def phase(self, name: str) -> ContextManager[None]:
        """A context that times its body as phase name; data is always host
        time (its work is on the host)."""
        if not self.enabled:
            return _Nothing()
        if name == "data":
            return _HostSpan(self)
        return _Span(self, name)

    def begin_step(self) -> None:
        if self.enabled:
            self._open = []
            self._began = time.perf_counter()

    def end_step(self) -> None:
        """Call at the end of a step (after its synchronisation point, if
        it has one: otherwise this waits for the step's last event)."""
        if not self.enabled:
            return
        events = [end for _, _, end in self._open if not isinstance(end, float)]
        if events:
            events[-1].synchronize()
        wall = time.perf_counter() - self._began
        self.steps += 1
        if self.steps <= self.skip:
            self._open = []
            return
        for name, a, b in self._open:
            self.sums[name] += _seconds(a, b)
        self.sums["step"] += wall
        self._open = []

    def means(self) -> Dict[str, float]:
        """{"time_<phase>_s": mean seconds per measured step}; empty when
        disabled or nothing was measured yet."""
        n = self.steps - self.skip
        if not self.enabled or n <= 0:
            return {}
        return {"time_%s_s" % k: v / n for k, v in self.sums.items()}


class _HostSpan:
    def __init__(self, timer):
        self.timer = timer

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.timer._open.append(("data", self.start, time.perf_counter()))
        return False


def _seconds(a, b):
    if isinstance(a, float):
        return b - a
    return a.elapsed_time(b) / 1000.0
