"""The figure families of makemore.figures draw (smoke tests on small data), in the book's style,
without touching matplotlib's global settings."""

from __future__ import annotations

import importlib

import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.figure import Figure

from makemore import diagnostics as D
from makemore import figures
from makemore.mlp import DeepConfig, deep_mlp
from makemore.training import TrainConfig, train


def test_importing_changes_no_global_setting():
    before = dict(matplotlib.rcParams)
    importlib.reload(figures)
    assert dict(matplotlib.rcParams) == before


def test_styled_applies_the_style_only_while_drawing():
    seen = {}

    @figures.styled(legible=True)
    def draw():
        seen["font"] = plt.rcParams["font.size"]
        seen["grid"] = plt.rcParams["axes.grid"]
        fig, _ = figures.new_figure()
        return fig

    before = (plt.rcParams["font.size"], plt.rcParams["axes.grid"])
    fig = draw()
    assert seen == {"font": figures.LEGIBLE["font.size"], "grid": True}
    assert (plt.rcParams["font.size"], plt.rcParams["axes.grid"]) == before  # restored
    assert fig.get_facecolor()[:3] == (1.0, 1.0, 1.0)  # opaque white: legible in dark mode
    plt.close(fig)


def _check(fig: Figure) -> None:
    assert isinstance(fig, Figure) and fig.axes
    assert all(ax.has_data() or ax.get_legend() or ax.texts for ax in fig.axes)
    fig.canvas.draw()  # lays out and renders without error
    plt.close(fig)


def test_count_table():
    itos = ".abc"
    _check(figures.plot_count_table(torch.arange(16).view(4, 4), itos))


def test_training_curves():
    losses = torch.linspace(3.0, 2.0, 4000)
    _check(figures.plot_training_curve({"run": losses}, window=500, decay_step=2000))
    _check(figures.plot_first_loss({"a": losses, "b": losses + 0.1}, uniform=3.3, first=100,
                                   window=500))
    _check(figures.plot_stage_curves({"a": losses, "b": losses * 0.9}, window=500))


@pytest.fixture(scope="module")
def report():
    g = torch.Generator().manual_seed(0)
    X, Y = torch.randint(0, 27, (200, 3), generator=g), torch.randint(0, 27, (200,), generator=g)
    model = deep_mlp(DeepConfig(27, n_hidden=16, n_layers=3))
    with D.Recorder(model) as rec:
        train(model, X, Y, TrainConfig(steps=30, batch_size=16), callback=rec.on_step)
    return rec.report()


def test_diagnostics_figures(report):
    _check(figures.plot_activation_hists(report))
    _check(figures.plot_gradient_hists(report))
    _check(figures.plot_weight_grad_hists(report))
    _check(figures.plot_update_ratios(report))
    _check(figures.plot_dashboard(report, "a run"))


def test_results_chart():
    entries = [{"key": "a", "model": "model a", "losses": {"train": 2.1, "dev": 2.2}},
               {"key": "b", "model": "model b", "losses": {"train": 2.0, "dev": 2.15},
                "seeds": {"dev": [2.15, 2.16, 2.14]}}]
    _check(figures.plot_results(entries, {"a": {"dev": 2.17}}))
    entries[1]["cpu_seconds"] = 12.0  # a has no budget measured: left out
    fig = figures.plot_budget(entries)
    _check(fig)
    assert [t.get_text() for t in fig.axes[0].texts] == ["model b"]
