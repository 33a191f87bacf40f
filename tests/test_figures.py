"""Tests of scalelib.plots.forecasts' forecast drawing (synthetic data, from tests/synthetic.py)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from synthetic import synthetic_interval  # noqa: E402

from scalelib.plots.forecasts import draw_forecast, plot_forecasts  # noqa: E402
from scalelib.evaluation.intervals import PredictionInterval  # noqa: E402
from scalelib.plots.style import INTERVAL_ALPHA  # noqa: E402

COMPUTE = np.logspace(18, 21, 5)


def bands(ax):
    return [child for child in ax.get_children() if isinstance(child, PolyCollection)]


def test_draw_forecast_shades_an_interval_and_draws_its_point_forecast():
    figure, ax = plt.subplots()
    interval = synthetic_interval(len(COMPUTE), level=0.8)
    draw_forecast(ax, COMPUTE, interval, colour="C1", label="Eq. 2")
    (band,) = bands(ax)
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_ydata(), interval.predicted)
    assert band.get_alpha() == INTERVAL_ALPHA
    assert band.get_label() == "Eq. 2, 80% interval"
    vertices = band.get_paths()[0].vertices
    assert np.isclose(vertices[:, 1].min(), interval.lower.min()) and np.isclose(vertices[:, 1].max(),
                                                                                  interval.upper.max())
    plt.close(figure)


def test_draw_forecast_draws_a_plain_forecast_without_a_band():
    figure, ax = plt.subplots()
    draw_forecast(ax, COMPUTE, np.linspace(0.3, 0.6, len(COMPUTE)), colour="C1", label="Eq. 2")
    assert bands(ax) == [] and len(ax.get_lines()) == 1
    plt.close(figure)


def test_plot_forecasts_shades_only_laws_with_intervals():
    frame = pd.DataFrame({
        "benchmark": "hellaswag", "flops": COMPUTE, "value": np.linspace(0.3, 0.6, len(COMPUTE)),
        "chance": 0.25, "metric": "acc_norm",
    })
    figure = plot_forecasts(
        frame,
        {"with interval": {"hellaswag": lambda compute: PredictionInterval(
            np.full(len(compute), 0.5), np.full(len(compute), 0.4), np.full(len(compute), 0.6), 0.9, "x", 0.0)},
         "point only": {"hellaswag": lambda compute: np.full(len(compute), 0.45)}},
        compute_cut=1e20, title="synthetic",
    )
    ax = figure.axes[0]
    assert [band.get_label() for band in bands(ax)] == ["with interval, 90% interval"]
    plt.close(figure)
