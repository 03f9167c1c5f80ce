"""The registry: every kind of model builds, trains, round-trips through a checkpoint and
samples, with no test code of its own; options it cannot take are refused by name."""

from __future__ import annotations

from dataclasses import asdict, fields

import pytest
import torch

from makemore import checkpoint, zoo
from makemore.sampling import sample
from makemore.training import train
from makemore.zoo import KINDS, OptionError

STEPS = 5


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_trains_round_trips_and_samples(name, toy_words, tmp_path):
    plan = zoo.plan(toy_words, name, steps=STEPS, seed=3)
    assert isinstance(plan.config, plan.kind.config) and plan.config.seed == 3
    before = [p.detach().clone() for p in plan.model.parameters()]
    losses = train(plan.model, plan.X, plan.Y, plan.tcfg)
    assert losses.shape == (STEPS,) and torch.isfinite(losses).all()
    assert any(not torch.equal(a, b) for a, b in zip(before, plan.model.parameters(),
                                                      strict=True))  # it learned something
    path = checkpoint.save(tmp_path / f"{name}.pt", name, asdict(plan.config), plan.vocab,
                           plan.model, {"steps": STEPS})
    back = checkpoint.load(path)
    assert back.model_type == name and back.vocab == plan.vocab
    ours, theirs = checkpoint.model_state(plan.model), checkpoint.model_state(back.model)
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)
    plan.model.eval()
    with torch.no_grad():
        assert torch.equal(plan.model(plan.X[:8]), back.model(plan.X[:8]))
    words = sample(back.model, back.vocab, 6, generator=torch.Generator().manual_seed(1))
    assert words == sample(plan.model, plan.vocab, 6, generator=torch.Generator().manual_seed(1))
    assert all(set(w) <= set(plan.vocab.itos[1:]) for w in words)


@pytest.mark.parametrize("name", list(KINDS))
def test_a_kind_s_sizes_are_fields_of_its_config(name):
    kind = KINDS[name]
    names = {f.name for f in fields(kind.config)}
    assert set(kind.sizes) <= names and {"vocab_size", "seed"} <= names
    assert kind.reads in ("pairs", "windows", "words")
    assert kind.recipe.batch_size is None or kind.recipe.batch_size >= kind.min_batch


def test_the_same_seed_builds_the_same_model_and_another_seed_another(toy_words):
    for name in KINDS:
        a, b = zoo.plan(toy_words, name, seed=1), zoo.plan(toy_words, name, seed=1)
        c = zoo.plan(toy_words, name, seed=2)
        pa, pb, pc = (list(p.model.parameters()) for p in (a, b, c))
        assert all(torch.equal(x, y) for x, y in zip(pa, pb, strict=True)), name
        assert any(not torch.equal(x, y) for x, y in zip(pa, pc, strict=True)), name


def test_options_a_kind_cannot_take_are_refused_by_name(toy_words):
    cases = [("gru", dict(n_layer=2), "n_layer"), ("bigram", dict(batch_size=8), "batch_size"),
             ("mlp", dict(weight_decay=0.1), "weight_decay"),
             ("bn-mlp", dict(batch_size=1), "batch_size"),
             ("wavenet", dict(block_size=6), "block_size"),
             ("transformer", dict(n_embd=30, n_head=4), "n_embd"),
             ("mlp", dict(n_layer=3), "n_layer")]
    for name, options, option in cases:
        with pytest.raises(OptionError) as err:
            zoo.plan(toy_words, name, **options)
        assert err.value.option == option, (name, options)


def test_the_recipes_are_the_lectures_and_the_book_s(toy_words):
    """The command line's defaults: the lectures' schedules for their models, the book's
    warm-up and linear decay for the sequence models."""
    mlp = zoo.plan(toy_words, "mlp").tcfg
    assert (mlp.steps, mlp.batch_size, mlp.lr_at(99_999), mlp.lr_at(100_000)) == (
        200_000, 32, 0.1, pytest.approx(0.01))
    wave = zoo.plan(toy_words, "wavenet").tcfg
    assert wave.lr_at(149_999) == 0.1 and wave.lr_at(150_000) == pytest.approx(0.01)
    bigram = zoo.plan(toy_words, "bigram").tcfg
    assert bigram.batch_size is None and bigram.l2 > 0 and bigram.lr_at(499) == bigram.lr
    gru = zoo.plan(toy_words, "gru", steps=1000).tcfg
    assert gru.optimizer == "adamw" and gru.lr_at(0) < gru.lr_at(99) == gru.lr
    assert gru.lr_at(999) < gru.lr / 100


def test_the_readme_has_a_row_for_every_kind():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip().strip("`") for line in readme.splitlines()
            if line.startswith("| `")}
    assert set(KINDS) <= rows, set(KINDS) - rows
