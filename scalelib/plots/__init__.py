"""Figures: one shared style (:mod:`~scalelib.plots.style`) and the book's figures."""
