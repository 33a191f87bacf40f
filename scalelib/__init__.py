"""scalelib: downstream scaling laws for LLMs, fitted to real evaluation results.

The helper library of the book *Downstream scaling laws*. It reproduces and extends
the direct framework of Krajewski et al. (2025), arXiv:2512.08894.

Every law is described once, by a :class:`~scalelib.interfaces.Law` defined in its own
module (Eq. 2 in :mod:`scalelib.direct_law`, Eq. 6 in :mod:`scalelib.saturating_law`,
Eq. 1 in :mod:`scalelib.bnsl`, Eq. 4 in :mod:`scalelib.ratio_law`, Eq. 5 in
:mod:`scalelib.pass_at_k_law`), and listed in the registry :data:`scalelib.laws.LAWS`, which
the intervals, the command line and the benchmarks read when they are called. A new law
goes in a module of its own with one ``Law``, added to that registry, or, outside the
library, registered with :func:`scalelib.laws.register_law` (``tests/test_new_law.py``
does this for a toy law and runs it through backtests, intervals, the command line and
a figure).
"""

__version__ = "0.1.0"
