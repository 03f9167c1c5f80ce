"""`python -m makemore`: train, checkpoint, sample; and one clear line for every bad input."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from dataclasses import asdict

import pytest
import torch

from makemore import bigram, checkpoint, cli, lecture, mlp, wavenet
from makemore.checkpoint import CheckpointError
from makemore.data import Vocab, bigram_pairs, make_splits, split_words
from makemore.training import TrainConfig, train

STEPS = 50
SEED = 1234


@pytest.fixture(scope="module")
def words_file(tmp_path_factory, toy_words):
    path = tmp_path_factory.mktemp("data") / "words.txt"
    path.write_text("\n".join(toy_words) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory, words_file):
    """One checkpoint per model type, trained by the command line for STEPS steps."""
    folder = tmp_path_factory.mktemp("ckpt")
    paths = {}
    for model in cli.MODELS:
        out = folder / f"{model}.pt"
        argv = ["train", "--model", model, "--data", str(words_file), "--steps", str(STEPS),
                "--seed", str(SEED), "--out", str(out), "--quiet"]
        assert cli.main(argv) == 0
        paths[model] = out
    return paths


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# ---------------------------------------------------------------------------- the oracle
def trained_by_the_package(model_type: str, words: list[str]):
    """The same model trained directly with the package, as the issue specifies each type."""
    vocab = Vocab.from_words(words)
    if model_type == "bigram":
        xs, ys = bigram_pairs(split_words(words)[0], vocab)
        model = bigram.NeuralBigram(len(vocab), SEED)
        train(model, xs, ys, TrainConfig(steps=STEPS, batch_size=None, lr=50.0, l2=0.01))
        return model, vocab
    if model_type == "wavenet":  # Part 5's network and recipe: lr / 10 after 3/4 of the steps
        net = wavenet.wavenet(wavenet.WaveNetConfig(vocab_size=len(vocab), seed=SEED))
        splits = make_splits(words, net.block_size)
        train(net, splits.Xtr, splits.Ytr,
              TrainConfig(steps=STEPS, lr_decay_step=STEPS * 3 // 4, lr_final=0.01, seed=SEED))
        return net, vocab
    cfg = mlp.MLPConfig(vocab_size=len(vocab), seed=SEED)
    if model_type == "bn-mlp":  # Kaiming-like: tanh gain 5/3 over sqrt(fan_in), small output
        cfg = mlp.MLPConfig(vocab_size=len(vocab), seed=SEED, batchnorm=True,
                            w1_scale=(5 / 3) / (cfg.fan_in ** 0.5), b1_scale=0.01,
                            w2_scale=0.01, b2_scale=0.0)
    model = mlp.MLP(cfg)
    splits = make_splits(words, cfg.block_size)
    train(model, splits.Xtr, splits.Ytr,
          TrainConfig(steps=STEPS, lr_decay_step=STEPS // 2, lr_final=0.01, seed=SEED))
    return model, vocab


def test_every_model_the_command_line_trains_can_be_loaded():
    assert set(cli.MODELS) == set(checkpoint.BUILDERS) == {"bigram", "mlp", "bn-mlp", "wavenet"}


def test_wavenet_defaults_are_the_lectures(trained):
    ckpt = checkpoint.load(trained["wavenet"])
    assert ckpt.config == {**asdict(wavenet.WaveNetConfig(len(ckpt.vocab))), "seed": SEED}
    assert ckpt.model.block_size == lecture.PART5_NET["block_size"]
    assert ckpt.model[2].weight.shape == (2 * lecture.PART5_NET["n_embd"],
                                          lecture.PART5_NET["n_hidden"])
    assert ckpt.meta["batch_size"] == lecture.PART5_RECIPE["batch_size"]


@pytest.mark.parametrize("model_type", list(cli.MODELS))
def test_checkpoint_holds_exactly_the_model_the_package_trains(trained, toy_words, model_type):
    ckpt = checkpoint.load(trained[model_type])
    expected, vocab = trained_by_the_package(model_type, toy_words)
    assert ckpt.model_type == model_type and ckpt.vocab == vocab
    state, want = checkpoint.model_state(ckpt.model), checkpoint.model_state(expected)
    assert state.keys() == want.keys()
    for name in want:  # bit for bit: the progress bar's loss probe changes nothing in training
        assert torch.equal(state[name], want[name]), name
    assert ckpt.meta["steps"] == STEPS and ckpt.meta["seed"] == SEED
    assert ckpt.meta["n_words"] == len(toy_words)


@pytest.mark.parametrize("model_type", list(cli.MODELS))
def test_round_trip_gives_identical_samples(trained, toy_words, capsys, model_type):
    expected, vocab = trained_by_the_package(model_type, toy_words)
    g = torch.Generator().manual_seed(7)
    want = cli.MODELS[model_type].sample(expected, vocab, 15, g, 1.0)
    status, out, err = run(capsys, "sample", "--checkpoint", str(trained[model_type]),
                           "-n", "15", "--seed", "7")
    assert status == 0 and err == ""
    assert out.splitlines() == want
    assert run(capsys, "sample", "--checkpoint", str(trained[model_type]), "-n", "15",
               "--seed", "7")[1] == out


def test_the_seed_and_the_temperature_change_the_samples(trained, capsys):
    path = str(trained["mlp"])
    a = run(capsys, "sample", "--checkpoint", path, "-n", "30", "--seed", "1")[1]
    b = run(capsys, "sample", "--checkpoint", path, "-n", "30", "--seed", "2")[1]
    assert a != b
    # near zero temperature, sampling is greedy decoding: every word is the same
    cold = run(capsys, "sample", "--checkpoint", path, "-n", "5", "--temperature", "1e-4")[1]
    assert len(set(cold.splitlines())) == 1


def test_bigram_sampling_at_temperature_one_is_the_packages(trained):
    ckpt = checkpoint.load(trained["bigram"])
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert cli.MODELS["bigram"].sample(ckpt.model, ckpt.vocab, 10, g1, 1.0) == bigram.sample(
        ckpt.model, ckpt.vocab, 10, g2)


def test_progress_bar_shows_the_running_loss(words_file, tmp_path, capsys):
    status, out, err = run(capsys, "train", "--data", str(words_file), "--steps", "20",
                           "--out", str(tmp_path / "m.pt"))
    assert status == 0
    assert "20/20" in err and "loss=" in err
    assert "train loss" in out and "dev loss" in out and "saved" in out


# ---------------------------------------------------------------------------- bad input
def broken_checkpoints(folder, good):
    """Files that are not usable checkpoints of ours, each with what the message must say."""
    data = torch.load(good, weights_only=True)
    cases = {}

    def write(name, payload=None, raw=None):
        path = folder / name
        if raw is not None:
            path.write_bytes(raw)
        else:
            torch.save(payload, path)
        return path

    cases["text"] = (write("text.pt", raw=b"emma\nolivia\n"), "not a makemore checkpoint")
    cases["truncated"] = (write("half.pt", raw=good.read_bytes()[:2000]),
                          "not a makemore checkpoint")
    cases["code"] = (write("code.pt", raw=pickle.dumps(os.getcwd)), "not a makemore checkpoint")
    cases["tensor"] = (write("tensor.pt", torch.zeros(3)), "no 'makemore-checkpoint' marker")
    cases["version"] = (write("v99.pt", {**data, "version": 99}), "version 99")
    cases["type"] = (write("type.pt", {**data, "model_type": "gpt"}), "unknown model type")
    state = {**data["state"], "2.weight": torch.zeros(2, 2)}
    cases["shape"] = (write("shape.pt", {**data, "state": state}), "tensor '2.weight'")
    cases["vocab"] = (write("vocab.pt", {**data, "vocab": ["a", "b"]}), "vocabulary")
    config = {**data["config"], "n_hidden": "many"}
    cases["config"] = (write("config.pt", {**data, "config": config}), "n_hidden")
    config = {**data["config"], "n_hidden": -5}
    cases["size"] = (write("size.pt", {**data, "config": config}), "broken mlp checkpoint")
    return cases


def assert_one_clear_line(status: int, out: str, err: str, *phrases: str) -> None:
    assert status == 2, (status, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("makemore: error: ")
    for phrase in phrases:
        assert phrase in lines[0], (phrase, lines[0])


@pytest.mark.parametrize(
    "args, phrases",
    [
        (["--data", "{tmp}/missing.txt"], ["missing.txt", "no such file"]),
        (["--data", "{empty}"], ["empty.txt", "no words"]),
        (["--data", "{one}"], ["one.txt", "nothing to train on"]),
        (["--model", "transformer"], ["--model", "invalid choice", "transformer"]),
        (["--steps", "-5"], ["--steps", "positive", "-5"]),
        (["--steps", "0"], ["--steps", "positive"]),
        (["--steps", "many"], ["--steps", "not an integer"]),
        (["--lr", "-1"], ["--lr", "positive"]),
        (["--seed", "-1"], ["--seed"]),
        (["--device", "toaster"], ["--device toaster", "not a device"]),
        (["--device", "cuda:7"], ["--device cuda:7"]),  # no such GPU here, or no CUDA at all
        (["--out", "{out}"], ["is a folder"]),
        (["--model", "bn-mlp", "--batch-size", "1"], ["BatchNorm"]),
        (["--model", "wavenet", "--batch-size", "1"], ["BatchNorm"]),
        (["--model", "wavenet", "--block-size", "6"], ["--block-size", "power of two", "6"]),
        (["--model", "wavenet", "--n-hidden", "0"], ["--n-hidden", "positive"]),
        (["--frobnicate"], ["unrecognized arguments"]),
    ],
)
def test_bad_training_input_is_one_line_and_leaves_nothing(
    args, phrases, words_file, tmp_path, capsys
):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (tmp_path / "empty.txt").write_text("\n  \n", encoding="utf-8")
    (tmp_path / "one.txt").write_text("emma\n", encoding="utf-8")
    subs = {"{tmp}": str(tmp_path), "{empty}": str(tmp_path / "empty.txt"),
            "{one}": str(tmp_path / "one.txt"), "{out}": str(out_dir)}
    args = [subs.get(a, a.replace("{tmp}", str(tmp_path))) for a in args]
    argv = ["train", "--data", str(words_file), "--steps", "5", "--quiet",
            "--out", str(out_dir / "m.pt"), *args]
    assert_one_clear_line(*run(capsys, *argv), *phrases)
    assert list(out_dir.iterdir()) == []  # no checkpoint, no temporary file


def test_bad_checkpoints_are_one_line_each(trained, tmp_path, capsys):
    cases = broken_checkpoints(tmp_path, trained["mlp"])
    before = sorted(tmp_path.iterdir())
    for path, phrase in cases.values():
        status, out, err = run(capsys, "sample", "--checkpoint", str(path))
        assert_one_clear_line(status, out, err, str(path), phrase)
        with pytest.raises(CheckpointError):
            checkpoint.load(path)
    assert sorted(tmp_path.iterdir()) == before


@pytest.mark.parametrize(
    "argv, phrases",
    [
        (["sample", "--checkpoint", "{tmp}/nope.pt"], ["nope.pt", "no such file"]),
        (["sample", "--checkpoint", "{tmp}"], ["not a file"]),
        (["sample", "--checkpoint", "{ckpt}", "--temperature", "0"], ["--temperature"]),
        (["sample", "--checkpoint", "{ckpt}", "-n", "-3"], ["-n", "positive"]),
        (["sample"], ["--checkpoint"]),
        ([], ["required"]),
        (["fly"], ["invalid choice"]),
    ],
)
def test_bad_sampling_input_is_one_line(argv, phrases, trained, tmp_path, capsys):
    argv = [a.replace("{tmp}", str(tmp_path)).replace("{ckpt}", str(trained["mlp"]))
            for a in argv]
    assert_one_clear_line(*run(capsys, *argv), *phrases)


# ---------------------------------------------------------------------------- atomic writes
def test_a_failed_write_leaves_nothing_half_written(tmp_path):
    target = tmp_path / "model.pt"

    def crash(f):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    with pytest.raises(OSError):
        checkpoint.atomic_write(target, crash)
    assert list(tmp_path.iterdir()) == []
    target.write_bytes(b"the old checkpoint")
    with pytest.raises(OSError):
        checkpoint.atomic_write(target, crash)
    assert list(tmp_path.iterdir()) == [target]
    assert target.read_bytes() == b"the old checkpoint"


def test_an_interrupted_training_writes_nothing(words_file, tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "train", interrupted)
    status = cli.main(["train", "--data", str(words_file), "--steps", "5", "--quiet",
                       "--out", str(tmp_path / "sub" / "m.pt")])
    assert status == 130
    assert "interrupted" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_checkpoint_holds_plain_values_only(tmp_path, toy_words):
    vocab = Vocab.from_words(toy_words)
    model = mlp.MLP(mlp.MLPConfig(vocab_size=len(vocab)))
    config = asdict(model.cfg)
    with pytest.raises(TypeError, match="meta.when"):
        checkpoint.save(tmp_path / "m.pt", "mlp", config, vocab, model, {"when": object()})
    assert list(tmp_path.iterdir()) == []
    path = checkpoint.save(tmp_path / "m.pt", "mlp", config, vocab, model, {"n": 1})
    assert checkpoint.load(path).meta == {"n": 1}


# ---------------------------------------------------------------------------- the real entry point
def test_python_dash_m_makemore(trained, capsys):
    """One real process (importing torch costs seconds): the entry point works end to end."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [sys.executable, "-m", "makemore", "sample", "--checkpoint", str(trained["bn-mlp"]),
         "-n", "8"], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == run(capsys, "sample", "--checkpoint", str(trained["bn-mlp"]),
                              "-n", "8")[1]


def test_a_checkpoint_holds_the_model_and_nothing_else(trained):
    """Parameters and buffers, by the model's own names; no generator state posing as a tensor."""
    ckpt = checkpoint.load(trained["bn-mlp"])
    state = checkpoint.model_state(ckpt.model)
    assert list(state) == [n for n, _ in ckpt.model.named_parameters()] + [
        n for n, _ in ckpt.model.named_buffers()]
    assert not any("rng" in name for name in state)
