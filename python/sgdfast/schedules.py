"""Learning-rate schedules: how each model's η changes between epochs (chapter 3).

A schedule is a recipe. :class:`sgdfast.Trainer` (and :func:`sgdfast.sweep`) takes one as
``schedule=`` and turns it, with :meth:`Schedule.start`, into per-model state that it
advances after every epoch, driving the engine with ``set_eta`` and freezing models whose
schedule has ended. The state lives in Python between epochs, so the Rust engine and the
numpy reference follow a schedule identically and a sweep stays fused and bit-for-bit
deterministic.

- :class:`Constant`: η never changes (the default).
- :class:`Steps`: piecewise constant, the book's "η = 0.25 for 20 epochs, then 0.025".
- :class:`ReduceOnPlateau`: the book's validation-driven rule: divide η by ``factor`` each
  time the validation accuracy has not improved for ``patience`` epochs; a model stops once
  its η has dropped to ``min_ratio`` of its initial value (the book: 1/128 or 1/1024).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

import numpy as np

from . import _validation as check

__all__ = ["Constant", "ReduceOnPlateau", "Schedule", "ScheduleState", "Steps"]


class ScheduleState(ABC):
    """One trainer's per-model state of a schedule.

    Attributes
    ----------
    eta : ndarray, shape (K,)
        Each model's learning rate for the next epoch.
    finished : ndarray of bool, shape (K,)
        Models whose schedule has ended: the trainer trains them no further.
    """

    def __init__(self, eta0: np.ndarray) -> None:
        self.eta0 = np.array(eta0, dtype=np.float64)
        self.eta = self.eta0.copy()
        self.finished = np.zeros(len(self.eta0), dtype=bool)

    @abstractmethod
    def update(self, epoch: int, accuracy: np.ndarray | None) -> None:
        """Advance past epoch ``epoch`` (0-based), whose validation accuracy per model was
        ``accuracy`` (NaN for models that no longer train; None when not measured)."""


class Schedule(ABC):
    """A learning-rate schedule; pass it to :class:`sgdfast.Trainer` as ``schedule=``."""

    #: Whether the schedule reads the validation accuracy ("evaluation_accuracy").
    needs_accuracy: bool = False

    @abstractmethod
    def start(self, eta0: np.ndarray) -> ScheduleState:
        """Fresh per-model state for models whose initial learning rates are ``eta0``."""


class _OpenLoop(ScheduleState):
    """State of a schedule that depends on the epoch only."""

    def __init__(self, eta0: np.ndarray, schedule: Steps) -> None:
        super().__init__(eta0)
        self._schedule = schedule
        self.eta = schedule.eta_at(0, self.eta0)

    def update(self, epoch: int, accuracy: np.ndarray | None) -> None:
        self.eta = self._schedule.eta_at(epoch + 1, self.eta0)


class Steps(Schedule):
    """Piecewise-constant η: from epoch ``e`` on (0-based), the value of the latest milestone
    ``e' <= e``; before the first milestone, each model's initial η.

    Parameters
    ----------
    milestones : mapping of int to float (or to a sequence of float, one per model)
        ``{epoch: value}``. With ``relative=True`` (default) a value multiplies each model's
        initial η (the sweep's ``eta``); with ``relative=False`` it is the learning rate
        itself, the same for every model or one per model.
    relative : bool

    Examples
    --------
    The book's "0.25 for 20 epochs, then 0.025", for every η of a sweep scaled alike:

    >>> import numpy as np
    >>> from sgdfast.schedules import Steps
    >>> state = Steps({20: 0.1}).start(np.array([0.25, 0.5]))
    >>> state.eta.tolist()
    [0.25, 0.5]
    >>> state.update(19, None); state.eta.tolist()   # after epoch 19 → η of epoch 20
    [0.025, 0.05]
    """

    def __init__(
        self, milestones: Mapping[int, float | Sequence[float]], *, relative: bool = True
    ) -> None:
        if not isinstance(milestones, Mapping) or not milestones:
            raise TypeError(
                f"milestones: expected a non-empty mapping {{epoch: value}}, got {milestones!r}"
            )
        self.relative = bool(relative)
        self.milestones = {
            check.positive_int(epoch, "milestones", minimum=0): np.array(
                check.real_grid(value, "milestones", strictly_positive=True)
            )
            for epoch, value in sorted(milestones.items())
        }

    def __repr__(self) -> str:
        items = ", ".join(f"{e}: {_short(v)}" for e, v in self.milestones.items())
        return f"Steps({{{items}}}, relative={self.relative})"

    def eta_at(self, epoch: int, eta0: np.ndarray) -> np.ndarray:
        """Every model's η during epoch ``epoch`` (0-based)."""
        eta = eta0.copy()
        for start, value in self.milestones.items():
            if start <= epoch:
                eta = eta0 * value if self.relative else np.broadcast_to(value, eta0.shape).copy()
        return eta

    def start(self, eta0: np.ndarray) -> ScheduleState:
        for value in self.milestones.values():
            if value.size not in (1, len(eta0)):
                raise ValueError(
                    f"milestones: a value has {value.size} entries; expected 1 or one per "
                    f"model ({len(eta0)})"
                )
        return _OpenLoop(eta0, self)


class Constant(Steps):
    """η stays at each model's initial value (the same as no schedule)."""

    def __init__(self) -> None:
        super().__init__({0: 1.0})

    def __repr__(self) -> str:
        return "Constant()"


class _PlateauState(ScheduleState):
    def __init__(self, eta0: np.ndarray, rule: ReduceOnPlateau) -> None:
        super().__init__(eta0)
        self._rule = rule
        self.best = np.full(len(eta0), -np.inf)
        self.wait = np.zeros(len(eta0), dtype=np.int64)  # epochs since improvement or cut

    def update(self, epoch: int, accuracy: np.ndarray | None) -> None:
        if accuracy is None:
            raise ValueError("schedule: ReduceOnPlateau needs the validation accuracy")
        improved = accuracy > self.best  # NaN (a model that stopped) never improves
        self.best = np.where(improved, accuracy, self.best)
        self.wait = np.where(improved, 0, self.wait + 1)
        cut = ~self.finished & (self.wait >= self._rule.patience)
        self.eta = np.where(cut, self.eta / self._rule.factor, self.eta)
        self.wait[cut] = 0
        floor = self.eta0 * self._rule.min_ratio * (1 + 1e-12)  # η0/2⁷ is exact; be safe
        self.finished |= self.eta <= floor


class ReduceOnPlateau(Schedule):
    """Divide η by ``factor`` each time the validation accuracy has not improved for
    ``patience`` epochs; a model's training ends once its η has dropped to ``min_ratio``
    of its initial value. The book's learning-rate schedule (chapter 3): factor 2, patience
    10, and ``min_ratio`` 1/128 (or 1/1024).

    "Improved" means a validation accuracy strictly above the model's best so far; after
    each cut the count of epochs without improvement restarts from zero (the best so far is
    kept). Needs ``evaluation_data``; the trainer adds the "evaluation_accuracy" monitor.

    Parameters
    ----------
    factor : float
        > 1; the book uses 2 (halving), 10 is the other common choice.
    patience : int
        Epochs without improvement before a cut.
    min_ratio : float
        In (0, 1): training ends when η <= min_ratio · η0. With ``factor=2`` and
        ``min_ratio=1/128`` a model trains at η0, η0/2, ..., η0/64 and ends at the 7th cut.

    Examples
    --------
    >>> import numpy as np
    >>> from sgdfast.schedules import ReduceOnPlateau
    >>> state = ReduceOnPlateau(factor=2, patience=1, min_ratio=1 / 4).start(np.array([1.0]))
    >>> for epoch, accuracy in enumerate([0.90, 0.91, 0.91, 0.91]):
    ...     state.update(epoch, np.array([accuracy]))
    ...     print(epoch, state.eta.tolist(), state.finished.tolist())
    0 [1.0] [False]
    1 [1.0] [False]
    2 [0.5] [False]
    3 [0.25] [True]
    """

    needs_accuracy = True

    def __init__(self, factor: float = 2.0, patience: int = 10, min_ratio: float = 1 / 128):
        self.factor = check.positive_real(factor, "factor", minimum=1.0)
        self.patience = check.positive_int(patience, "patience")
        self.min_ratio = check.real_in(min_ratio, "min_ratio", 0.0, 1.0, open_high=True)

    def __repr__(self) -> str:
        return (
            f"ReduceOnPlateau(factor={self.factor:g}, patience={self.patience}, "
            f"min_ratio={_ratio(self.min_ratio)})"
        )

    def start(self, eta0: np.ndarray) -> ScheduleState:
        return _PlateauState(eta0, self)


def as_schedule(value: object) -> Schedule | None:
    """``schedule=`` argument: None, a :class:`Schedule`, or a mapping (→ :class:`Steps`)."""
    if value is None or isinstance(value, Schedule):
        return value
    if isinstance(value, Mapping):
        return Steps(value)
    raise TypeError(
        f"schedule: expected a Schedule (Constant, Steps, ReduceOnPlateau), a mapping "
        f"{{epoch: factor}} or None, got {value!r}"
    )


def _short(values: np.ndarray) -> str:
    return f"{values[0]:g}" if values.size == 1 else "[" + ", ".join(f"{v:g}" for v in values) + "]"


def _ratio(value: float) -> str:
    inverse = 1 / value
    return f"1/{round(inverse)}" if math.isclose(inverse, round(inverse)) else f"{value:g}"
