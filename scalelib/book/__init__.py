"""The book's own run sets and results: what each chapter fits, at which compute cuts.

:mod:`~scalelib.book.compute_cuts` (the cuts of the book's backtests, as data),
:mod:`~scalelib.book.direct_data` (chapter 2), :mod:`~scalelib.book.two_stage_data`
(chapter 3) and :mod:`~scalelib.book.ratio_data` (chapter 4). A reader fitting their own
runs does not need them.
"""
