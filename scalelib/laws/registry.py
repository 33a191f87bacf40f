"""The registry of the library's laws: one :class:`~scalelib.interfaces.Law` per law module.

Each law module describes its law once, as a :class:`Law` (defined in
:mod:`scalelib.interfaces`, which imports no law, and re-exported here); this module
lists them, and the consumers (:mod:`scalelib.evaluation.intervals`, the command line of
:mod:`scalelib.runs.your_runs`, the benchmarks, the tests) read them from :data:`LAWS`
instead of keeping lists of their own.

====================  ========  =====================================================
name                  law       module
====================  ========  =====================================================
``direct``            Eq. 2     :data:`scalelib.laws.direct_law.DIRECT_LAW`
``saturating``        Eq. 6     :data:`scalelib.laws.saturating_law.SATURATING_LAW`
``bnsl``              Eq. 1     :data:`scalelib.laws.bnsl.BNSL_LAW`
``ratio``             Eq. 4     :data:`scalelib.laws.ratio_law.RATIO_LAW`
``passk``             Eq. 5     :data:`scalelib.laws.pass_at_k_law.PASS_AT_K_LAW`
====================  ========  =====================================================

A new law goes in a module of its own that defines one :class:`Law`, and is added to
:data:`LAWS` here (or, outside the library, with :func:`register_law`; a test's toy law
with :func:`temporarily_registered`). Every consumer reads :data:`LAWS` when called, so a
registered law is backtested, given intervals (its bootstrap over runs, or its own
``analytic_interval_forecaster``), offered by the command line's ``--law`` and drawn like the
others. The validation-loss law of the two-stage forecast
(:mod:`scalelib.laws.loss_law`) is not one of them: it models a loss, not an accuracy.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from scalelib.laws.bnsl import BNSL_LAW
from scalelib.laws.direct_law import DIRECT_LAW
from scalelib.interfaces import Law
from scalelib.laws.pass_at_k_law import PASS_AT_K_LAW
from scalelib.laws.ratio_law import RATIO_LAW
from scalelib.laws.saturating_law import SATURATING_LAW

__all__ = ["Law", "LAWS", "law", "register_law", "temporarily_registered"]

LAWS: dict[str, Law] = {law.name: law for law in (DIRECT_LAW, SATURATING_LAW, BNSL_LAW, RATIO_LAW, PASS_AT_K_LAW)}
"""Every law of the library by name, in the book's order of presentation."""


def law(name: str | Law) -> Law:
    """The registered law called ``name`` (a :class:`Law` is returned as it is).

    Raises
    ------
    ValueError
        For a name that is not in :data:`LAWS`; the message names the known laws.
    """
    if isinstance(name, Law):
        return name
    if name not in LAWS:
        raise ValueError(f"Unknown law {name!r}; known laws: {list(LAWS)}.")
    return LAWS[name]


def register_law(law: Law) -> Law:
    """Add ``law`` to :data:`LAWS` under its name, and return it.

    Raises
    ------
    ValueError
        For a name already registered: no law is replaced by accident.
    """
    if law.name in LAWS:
        raise ValueError(f"A law named {law.name!r} is registered already: {LAWS[law.name]!r}.")
    LAWS[law.name] = law
    return law


@contextmanager
def temporarily_registered(law: Law) -> Iterator[Law]:
    """``with temporarily_registered(law):`` -- :func:`register_law` for the block, removed after it (even on error)."""
    register_law(law)
    try:
        yield law
    finally:
        del LAWS[law.name]
