"""scalelib: downstream scaling laws for LLMs, fitted to real evaluation results.

The helper library of the book *Downstream scaling laws*. It reproduces and extends
the direct framework of Krajewski et al. (2025), arXiv:2512.08894.
"""

__version__ = "0.1.0"
