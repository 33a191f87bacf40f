"""Result tables for the book: captioned, formatted, and narrow enough for the page.

A chapter's table is read in a text column about 75 characters (about 700 px) wide.
:func:`book_table` turns a tidy result frame into a :class:`BookTable` that a notebook
displays as HTML (and as plain text, for tests and terminals):

- every number is formatted (a format per column, or the default) and missing values
  show as a dash instead of ``NaN``;
- column headers carry their unit, "mean error (points)";
- the index becomes ordinary leading *key* columns, so there is no index clutter
  (no empty corner cells, no repeated index names);
- the table has a caption;
- a table wider than the column is split: by its top column level when the columns
  are a two-level index (one part per group), otherwise into consecutive groups of
  columns, each part repeating the key columns; a table with one key column that fits
  once transposed is transposed instead;
- a long table (more than ``fold_after`` rows) is folded into a dropdown
  (``<details>``), so that it does not interrupt the text.

The width is estimated in characters: a column needs its longest cell, or its header
(a header longer than 12 characters may wrap at spaces, down to its longest word),
plus two characters of padding.

The HTML is deterministic (no random ids, no styles that depend on the session): the
notebooks are tested by re-executing them and comparing their outputs exactly.

:func:`benchmark_labels` replaces the release's benchmark names (``arc_easy``) by the
book's labels (ARC-Easy) in an index or in column labels, and :func:`glue_rounded`
glues a number into the prose (myst-nb) at the precision it is printed with.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scalelib.data.benchmark_info import BENCHMARKS
from scalelib.data.normalise import ScalingDataError

__all__ = [
    "FOLD_AFTER_ROWS",
    "MISSING",
    "TEXT_COLUMN_CHARACTERS",
    "BookTable",
    "TablePart",
    "benchmark_labels",
    "book_table",
    "glue_rounded",
    "plus_minus",
]

TEXT_COLUMN_CHARACTERS = 75
"""Characters a table may span: the rendered text column at 1280 px (about 700 px)."""

FOLD_AFTER_ROWS = 15
"""Tables with more rows than this are folded into a dropdown: a screen's worth of rows."""

MISSING = "–"
"""How a missing value (NaN, None) is shown."""

_PADDING = 2
"""Characters of horizontal padding per column (the theme's cell padding)."""

_HEADER_WRAP = 12
"""A header of at most this many characters is not wrapped ("tpr 160" stays on one
line); a longer one may wrap at its spaces, down to its longest word."""

Format = str | Callable[[object], str]
"""A format: a ``str.format`` pattern such as ``"{:.2f}"``, or a function of the value."""


@dataclass(frozen=True)
class TablePart:
    """One printed table of a :class:`BookTable`: string cells under flat or two-level headers.

    Attributes
    ----------
    title:
        What distinguishes this part from the others of a split table (``None`` if the
        table has one part).
    cells:
        The formatted cells, all strings; the first ``n_keys`` columns are key columns.
    n_keys:
        How many leading columns identify a row (the former index).
    """

    title: str | None
    cells: pd.DataFrame
    n_keys: int

    @property
    def width(self) -> int:
        """Estimated width in characters (see the module docstring)."""
        return sum(_column_width(label, self.cells.iloc[:, i]) for i, label in enumerate(self.cells.columns))


@dataclass(frozen=True)
class BookTable:
    """A captioned result table, in one or more parts, possibly folded into a dropdown.

    Display it as the last expression of a notebook cell: Jupyter shows
    :meth:`_repr_html_`, and plain-text front ends :meth:`__repr__`.
    """

    caption: str
    parts: tuple[TablePart, ...]
    folded: bool

    @property
    def width(self) -> int:
        """Estimated width in characters of the widest part."""
        return max(part.width for part in self.parts)

    @property
    def n_rows(self) -> int:
        """Rows of the first part (a transposed table counts its transposed rows)."""
        return len(self.parts[0].cells)

    def to_html(self) -> str:
        """The table as HTML: one ``<table>`` per part, in a ``<details>`` if folded."""
        tables = "\n".join(_part_html(part, self._part_caption(part)) for part in self.parts)
        if self.folded:
            summary = f"{html.escape(self.caption)} ({self.n_rows} rows: click to show)"
            tables = f"<details>\n<summary>{summary}</summary>\n{tables}\n</details>"
        return f'<div class="book-table">\n{tables}\n</div>'

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        blocks = []
        for part in self.parts:
            text = part.cells.to_string(index=False) if len(part.cells) else "(no rows)"
            blocks.append(f"{self._part_caption(part)}\n{text}")
        return "\n\n".join(blocks)

    def _part_caption(self, part: TablePart) -> str:
        return self.caption if part.title is None else f"{self.caption} [{part.title}]"


def _words(label: object) -> list[str]:
    parts = label if isinstance(label, tuple) else (label,)
    return [word for part in parts for word in str(part).split()] or [""]


def _column_width(label: object, cells: pd.Series) -> int:
    longest_cell = max((len(cell) for cell in cells), default=0)
    leaf = str(_leaf(label))
    header = len(leaf) if len(leaf) <= _HEADER_WRAP else max(len(word) for word in _words(leaf))
    return max(longest_cell, header) + _PADDING


def _formatter(spec: Format) -> Callable[[object], str]:
    if callable(spec):
        return spec
    if not isinstance(spec, str) or "{" not in spec:
        raise ScalingDataError(f"a format is a pattern such as '{{:.2f}}' or a function, got {spec!r}")
    return spec.format


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float | np.floating) and math.isnan(value)) or value is pd.NA


def _default_format(value: object, float_format: str) -> str:
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{value:d}"
    if isinstance(value, float | np.floating):
        return float_format.format(value)
    return str(value)


def _leaf(label: object) -> object:
    return label[-1] if isinstance(label, tuple) else label


def _resolve(mapping: Mapping[object, object] | None, columns: pd.Index, what: str) -> dict[object, object]:
    """Map each column to its entry in ``mapping``: by full label, else last level, else first."""
    if not mapping:
        return {}
    resolved, used = {}, set()
    for column in columns:
        candidates = (column, column[-1], column[0]) if isinstance(column, tuple) else (column,)
        for key in candidates:
            if key in mapping:
                resolved[column] = mapping[key]
                used.add(key)
                break
    unknown = [key for key in mapping if key not in used]
    if unknown:
        raise ScalingDataError(
            f"{what} given for columns the table does not have: {unknown}; columns: {list(columns)}"
        )
    return resolved


def book_table(
    frame: pd.DataFrame,
    caption: str,
    *,
    units: Mapping[object, str] | None = None,
    formats: Mapping[object, Format] | None = None,
    float_format: str = "{:.2f}",
    index: bool = True,
    transpose: bool | None = None,
    max_width: int = TEXT_COLUMN_CHARACTERS,
    fold_after: int = FOLD_AFTER_ROWS,
    fold: bool | None = None,
) -> BookTable:
    """Format a result frame as a captioned table that fits the book's text column.

    Parameters
    ----------
    frame:
        The result, one row per item; its index (one or more levels) becomes the key
        columns. Columns may be flat or a two-level index (group, quantity).
    caption:
        What the table shows, in one sentence.
    units:
        Unit per column, matched by label (for a two-level label: the whole label,
        else its last level, else its first, so one entry can serve a group); the
        header becomes "label (unit)".
    formats:
        Format per column, matched like ``units``: a pattern (``"{:.3g}"``) or a
        function returning a string. Other columns: integers as integers, booleans as
        yes/no, floats with ``float_format``, anything else with ``str``. Missing values
        show as :data:`MISSING`.
    float_format:
        Pattern for floats without a format of their own.
    index:
        Keep the index as key columns (``False`` drops it).
    transpose:
        ``True`` or ``False`` forces it; ``None`` transposes a too-wide table with one
        key column and flat columns when its transpose fits, and splits it otherwise
        (a two-level table is split by its groups).
    max_width:
        Characters a part may span (see :data:`TEXT_COLUMN_CHARACTERS`).
    fold_after:
        Fold the table into a dropdown when it has more rows than this.
    fold:
        ``True`` or ``False`` forces folding; ``None`` decides by ``fold_after``.

    Returns
    -------
    BookTable
        The parts to print, each at most ``max_width`` characters wide where a split can
        achieve it (a single column wider than that stays one column).

    Raises
    ------
    ScalingDataError
        If ``frame`` is not a non-empty DataFrame, ``caption`` is empty, the columns
        have more than two levels, or ``units``/``formats`` name columns the table does
        not have.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ScalingDataError(f"book_table needs a pandas DataFrame, got {type(frame).__name__}")
    if frame.shape[1] == 0:
        raise ScalingDataError("book_table needs at least one column")
    if not isinstance(caption, str) or not caption.strip():
        raise ScalingDataError("every table of the book needs a caption")
    if frame.columns.nlevels > 2:
        raise ScalingDataError(f"columns may have one or two levels, not {frame.columns.nlevels}")
    if max_width < 1 or fold_after < 0:
        raise ScalingDataError("max_width must be positive and fold_after non-negative")

    column_units = _resolve(units, frame.columns, "units")
    column_formats = {column: _formatter(spec) for column, spec in _resolve(formats, frame.columns, "formats").items()}
    cells = pd.DataFrame(
        {
            column: [
                MISSING
                if _is_missing(value)
                else column_formats[column](value)
                if column in column_formats
                else _default_format(value, float_format)
                for value in frame[column]
            ]
            for column in frame.columns
        },
        index=frame.index,
    )
    cells.columns = pd.MultiIndex.from_tuples(
        [_with_unit(column, column_units.get(column)) for column in frame.columns]
    ) if frame.columns.nlevels == 2 else pd.Index([_with_unit(c, column_units.get(c)) for c in frame.columns])

    n_keys = 0
    if index:
        keys = _key_frame(frame.index, cells.columns.nlevels)
        n_keys = keys.shape[1]
        cells = pd.concat([keys, cells.set_axis(keys.index)], axis=1)
    cells = cells.reset_index(drop=True)

    whole = TablePart(None, cells, n_keys)
    flat = cells.columns.nlevels == 1
    if transpose is True or (transpose is None and whole.width > max_width and n_keys == 1 and flat):
        flipped = _transposed(cells)
        if transpose is True or flipped.width <= max_width:
            whole = flipped
    parts = (whole,) if whole.width <= max_width else _split(whole, max_width)
    folded = len(whole.cells) > fold_after if fold is None else fold
    return BookTable(caption.strip(), parts, folded)


def _with_unit(column: object, unit: str | None) -> object:
    if unit is None:
        return column
    if isinstance(column, tuple):
        return (*column[:-1], f"{column[-1]} ({unit})")
    return f"{column} ({unit})"


def _key_frame(index: pd.Index, nlevels: int) -> pd.DataFrame:
    """The index as string key columns (a default RangeIndex gives none)."""
    if isinstance(index, pd.RangeIndex) and index.name is None:
        return pd.DataFrame(index=index)
    names = [name if name is not None else "" for name in index.names]
    values = {
        name if nlevels == 1 else (name, ""): [
            MISSING if _is_missing(value) else _default_format(value, "{:g}")
            for value in index.get_level_values(level)
        ]
        for level, name in enumerate(names)
    }
    return pd.DataFrame(values, index=index)


def _transposed(cells: pd.DataFrame) -> TablePart:
    """One key column's values become the headers; the former headers, the key column."""
    key = cells.columns[0]
    body = cells.set_index(key).T
    header = ""  # the first column now holds the former headers, which have no name
    labels = [
        ", ".join(str(level) for level in label if str(level)) if isinstance(label, tuple) else str(label)
        for label in body.index
    ]
    body.index = pd.Index(labels, name="")
    body.columns = pd.Index([str(column) for column in body.columns], name=None)
    flipped = body.reset_index()
    flipped.columns = pd.Index([header, *body.columns])
    return TablePart(None, flipped, 1)


def _split(whole: TablePart, max_width: int) -> tuple[TablePart, ...]:
    """Parts no wider than ``max_width``: by top column level, then by width."""
    cells, n_keys = whole.cells, whole.n_keys
    keys = cells.iloc[:, :n_keys]
    body = cells.iloc[:, n_keys:]
    groups: list[tuple[str | None, pd.DataFrame]]
    if body.columns.nlevels == 2:
        tops = list(dict.fromkeys(body.columns.get_level_values(0)))
        groups = [(str(top), body.loc[:, body.columns.get_level_values(0) == top]) for top in tops]
    else:
        groups = [(None, body)]
    parts: list[TablePart] = []
    for title, group in groups:
        chunk: list[int] = []
        for position in range(group.shape[1]):
            candidate = pd.concat([keys, group.iloc[:, [*chunk, position]]], axis=1)
            if chunk and TablePart(None, candidate, n_keys).width > max_width:
                parts.append(TablePart(title, pd.concat([keys, group.iloc[:, chunk]], axis=1), n_keys))
                chunk = []
            chunk.append(position)
        parts.append(TablePart(title, pd.concat([keys, group.iloc[:, chunk]], axis=1), n_keys))
    if len(parts) > 1 and all(part.title is None for part in parts):
        parts = [TablePart(f"part {i + 1} of {len(parts)}", part.cells, n_keys) for i, part in enumerate(parts)]
    elif any(sum(p.title == part.title for p in parts) > 1 for part in parts):
        parts = [
            TablePart(f"{part.title}, part {sum(p.title == part.title for p in parts[: i + 1])}", part.cells, n_keys)
            for i, part in enumerate(parts)
        ]
    return tuple(parts)


def _part_html(part: TablePart, caption: str) -> str:
    columns = part.cells.columns
    two_levels = columns.nlevels == 2
    lines = ['<table class="dataframe book-table">', f"<caption>{html.escape(caption)}</caption>", "<thead>"]
    if two_levels:
        lines.append(_group_header_row(columns, part.n_keys))
        leaves = [label[1] if position >= part.n_keys else label[0] for position, label in enumerate(columns)]
    else:
        leaves = list(columns)
    header = "".join(
        f'<th style="text-align: {"left" if position < part.n_keys else "right"}">{html.escape(str(label))}</th>'
        for position, label in enumerate(leaves)
    )
    lines += [f"<tr>{header}</tr>", "</thead>", "<tbody>"]
    for row in part.cells.itertuples(index=False):
        cells = "".join(
            f"<th>{html.escape(value)}</th>" if position < part.n_keys
            else f'<td style="text-align: right">{html.escape(value)}</td>'
            for position, value in enumerate(row)
        )
        lines.append(f"<tr>{cells}</tr>")
    lines += ["</tbody>", "</table>"]
    return "\n".join(lines)


def _group_header_row(columns: pd.MultiIndex, n_keys: int) -> str:
    """The first header row of a two-level table: one spanning cell per group."""
    cells = [f'<th colspan="{n_keys}"></th>'] if n_keys else []
    tops = list(columns.get_level_values(0))[n_keys:]
    position = 0
    while position < len(tops):
        span = 1
        while position + span < len(tops) and tops[position + span] == tops[position]:
            span += 1
        cells.append(f'<th colspan="{span}" style="text-align: center">{html.escape(str(tops[position]))}</th>')
        position += span
    return f"<tr>{''.join(cells)}</tr>"


def benchmark_labels(frame: pd.DataFrame, *, axis: str = "index") -> pd.DataFrame:
    """``frame`` with the release's benchmark names replaced by the book's labels.

    Parameters
    ----------
    frame:
        Any frame whose index values (``axis="index"``) or column labels
        (``axis="columns"``), at any level, include benchmark names such as
        ``arc_easy``.
    axis:
        ``"index"`` or ``"columns"``.

    Returns
    -------
    pandas.DataFrame
        A copy; names that are not benchmarks are left as they are.
    """
    if axis not in ("index", "columns"):
        raise ScalingDataError(f"axis is 'index' or 'columns', not {axis!r}")

    def label(name: object) -> object:
        return BENCHMARKS[name].label if isinstance(name, str) and name in BENCHMARKS else name

    return frame.rename(**{axis: label})


def plus_minus(values: pd.Series, errors: pd.Series, spec: str = "{:.3g}") -> pd.Series:
    """Estimates with their standard errors as one column of strings, "0.355 ± 0.0221".

    Parameters
    ----------
    values, errors:
        Aligned series (same index) of estimates and standard errors.
    spec:
        Pattern for both numbers.

    Returns
    -------
    pandas.Series
        Strings, on the index of ``values``; :data:`MISSING` where either is missing.
    """
    if not values.index.equals(errors.index):
        raise ScalingDataError("plus_minus needs estimates and errors on the same index")
    return pd.Series(
        [
            MISSING if _is_missing(value) or _is_missing(error) else f"{spec.format(value)} ± {spec.format(error)}"
            for value, error in zip(values, errors)
        ],
        index=values.index,
        name=values.name,
    )


def glue_rounded(name: str, value: float, digits: int) -> None:
    """Glue ``value``, rounded to ``digits`` decimals, for ``{glue:text}`name:.<digits>f```.

    Rounding before gluing keeps the stored text exactly reproducible (a float's full
    ``repr`` can change in its last digits with the linear-algebra kernel), and the
    prose prints the same digits as the tables. Nothing is returned, so that a call
    ending a notebook cell does not print the number as the cell's output.
    """
    from myst_nb import glue

    if not np.isfinite(value):
        raise ScalingDataError(f"{name}: cannot glue a non-finite number ({value!r}) into the prose")
    rounded = round(float(value), digits) + 0.0  # + 0.0 turns -0.0 into 0.0
    glue(name, rounded, display=False)
