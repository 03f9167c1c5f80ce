"""`python -m makemore`: train, checkpoint, sample; and one clear line for every bad input."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from dataclasses import asdict

import pytest
import torch

from makemore import bigram, checkpoint, cli, lecture, mlp, sequences, wavenet, zoo
from makemore.checkpoint import CheckpointError
from makemore.data import Vocab, bigram_pairs, make_splits, split_words
from makemore.recurrent import RNN, BoW, RecurrentConfig
from makemore.sampling import sample, top_k_logits
from makemore.training import Constant, StepDecay, TrainConfig, WarmupLinear, train
from makemore.transformer import Transformer, TransformerConfig
from makemore.zoo import KINDS

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
    for model in KINDS:
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
        lr = min(50.0, 0.75 * bigram.stable_lr(xs, ys, len(vocab)))  # the lecture's, if stable
        train(model, xs, ys, TrainConfig(steps=STEPS, batch_size=None, schedule=Constant(lr),
                                         l2=0.01))
        return model, vocab
    if model_type in ("rnn", "gru", "bow", "transformer"):  # whole words; AdamW, warm-up, decay
        T = max(len(w) for w in words) + 1
        X, Y = sequences.padded_words(split_words(words)[0], vocab, T)
        if model_type == "transformer":  # makemore.py's sizes
            net = Transformer(TransformerConfig(len(vocab), T, 4, 4, 64, fused=True, seed=SEED))
        elif model_type == "bow":
            net = BoW(RecurrentConfig(len(vocab), T, 64, 64, seed=SEED))
        else:
            net = RNN(RecurrentConfig(len(vocab), T, 64, 64, seed=SEED), model_type)
        lr = {"transformer": 3e-3}.get(model_type, 5e-3)  # the book's peak rates
        train(net, X, Y, TrainConfig(steps=STEPS, batch_size=32, optimizer="adamw",
                                     betas=(0.9, 0.99), weight_decay=0.1, seed=SEED,
                                     schedule=WarmupLinear(lr, STEPS // 10, STEPS)))
        return net, vocab
    if model_type == "wavenet":  # Part 5's network and recipe: lr / 10 after 3/4 of the steps
        net = wavenet.wavenet(wavenet.WaveNetConfig(vocab_size=len(vocab), seed=SEED))
        splits = make_splits(words, net.block_size)
        train(net, splits.Xtr, splits.Ytr,
              TrainConfig(steps=STEPS, schedule=StepDecay(0.1, STEPS * 3 // 4, 0.01), seed=SEED))
        return net, vocab
    cfg = mlp.MLPConfig(vocab_size=len(vocab), seed=SEED)
    if model_type == "bn-mlp":  # Kaiming-like: tanh gain 5/3 over sqrt(fan_in), small output
        cfg = mlp.MLPConfig(vocab_size=len(vocab), seed=SEED, batchnorm=True,
                            w1_scale=(5 / 3) / (cfg.fan_in ** 0.5), b1_scale=0.01,
                            w2_scale=0.01, b2_scale=0.0)
    model = mlp.MLP(cfg)
    splits = make_splits(words, cfg.block_size)
    train(model, splits.Xtr, splits.Ytr,
          TrainConfig(steps=STEPS, schedule=StepDecay(0.1, STEPS // 2, 0.01), seed=SEED))
    return model, vocab


# the kinds the oracle above trains by hand (every kind is also covered by tests/test_zoo.py)
ORACLE = ["bigram", "mlp", "bn-mlp", "wavenet", "rnn", "gru", "bow", "transformer"]


def test_the_command_line_trains_every_kind_of_the_registry():
    assert set(ORACLE) <= set(KINDS)
    assert build_parser_choices() == list(KINDS)


def build_parser_choices() -> list[str]:
    train_parser = cli.build_parser()._subparsers._group_actions[0].choices["train"]
    return next(a.choices for a in train_parser._actions if a.dest == "model")


def test_wavenet_defaults_are_the_lectures(trained):
    ckpt = checkpoint.load(trained["wavenet"])
    assert ckpt.config == {**asdict(wavenet.WaveNetConfig(len(ckpt.vocab))), "seed": SEED}
    assert ckpt.model.block_size == lecture.PART5_NET["block_size"]
    assert ckpt.model[2].weight.shape == (2 * lecture.PART5_NET["n_embd"],
                                          lecture.PART5_NET["n_hidden"])
    assert ckpt.meta["batch_size"] == lecture.PART5_RECIPE["batch_size"]


@pytest.mark.parametrize("model_type", ORACLE)
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


@pytest.mark.parametrize("model_type", ORACLE)
def test_round_trip_gives_identical_samples(trained, toy_words, capsys, model_type):
    expected, vocab = trained_by_the_package(model_type, toy_words)
    g = torch.Generator().manual_seed(7)
    want = sample(expected, vocab, 15, generator=g)
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


def test_bigram_sampling_follows_its_table(trained):
    """The bigram samples as a window model of one character: each step draws from the
    softmax of the row of W after the previous character (checked by hand)."""
    ckpt = checkpoint.load(trained["bigram"])
    P = torch.softmax(ckpt.model.W.detach(), dim=1)
    g = torch.Generator().manual_seed(3)
    words = sample(ckpt.model, ckpt.vocab, 10, generator=g)
    g = torch.Generator().manual_seed(3)
    prev, out, done = torch.zeros(10, dtype=torch.long), [[] for _ in range(10)], [False] * 10
    while not all(done):
        nxt = torch.multinomial(P[prev], 1, generator=g).squeeze(1)
        for i, c in enumerate(nxt.tolist()):
            if not done[i]:
                done[i] = c == 0 or len(out[i]) == 49
                out[i] += [] if c == 0 else [c]
        prev = nxt
    assert words == [ckpt.vocab.decode(w) for w in out]


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
        (["--model", "gpt"], ["--model", "invalid choice", "gpt"]),
        (["--model", "transformer", "--n-embd", "30"], ["--n-embd 30", "multiple", "--n-head 4"]),
        (["--model", "transformer", "--n-hidden", "8"], ["--n-hidden", "does not take it"]),
        (["--model", "transformer", "--block-size", "8"], ["--block-size", "does not take"]),
        (["--model", "mlp", "--n-layer", "2"], ["--n-layer", "--model mlp", "does not take"]),
        (["--model", "gru", "--n-head", "2"], ["--n-head", "--model gru"]),
        (["--model", "transformer", "--dropout", "1"], ["--dropout", "below 1"]),
        (["--model", "transformer", "--dropout", "nan"], ["--dropout", "finite"]),
        (["--model", "rnn", "--weight-decay", "-0.1"], ["--weight-decay", "zero or more"]),
        (["--model", "mlp", "--weight-decay", "0.1"], ["--weight-decay", "plain SGD"]),
        (["--model", "bigram", "--batch-size", "8"], ["--batch-size", "bigram"]),
        (["--model", "bow", "--eval-every", "0"], ["--eval-every", "positive"]),
        (["--work-dir", "{file}"], ["--work-dir", "is a file"]),
        (["--work-dir", "{file}/sub"], ["--work-dir", "is a file, not a folder"]),
        (["--resume", "{tmp}/nope.pt"], ["nope.pt", "no such file"]),
        (["--resume", "{file}"], ["not a makemore checkpoint"]),
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
    (tmp_path / "file").write_text("not a folder\n", encoding="utf-8")
    subs = {"{tmp}": str(tmp_path), "{empty}": str(tmp_path / "empty.txt"),
            "{one}": str(tmp_path / "one.txt"), "{out}": str(out_dir),
            "{file}": str(tmp_path / "file")}
    args = [subs.get(a, a.replace("{tmp}", str(tmp_path)).replace("{file}",
                                                                  str(tmp_path / "file")))
            for a in args]
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
        (["sample", "--checkpoint", "{ckpt}", "--top-k", "0"], ["--top-k", "positive"]),
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


# ---------------------------------------------------------------------------- sizes, top-k
def test_size_options_reach_the_model(words_file, tmp_path, capsys):
    out = tmp_path / "t.pt"
    assert cli.main(["train", "--model", "transformer", "--data", str(words_file), "--steps", "3",
                     "--n-layer", "1", "--n-head", "2", "--n-embd", "8", "--dropout", "0.1",
                     "--quiet", "--out", str(out)]) == 0
    ckpt = checkpoint.load(out)
    assert (len(ckpt.model.blocks), ckpt.config["n_head"], ckpt.config["n_embd"]) == (1, 2, 8)
    assert ckpt.config["dropout"] == 0.1 and not ckpt.model.training
    assert cli.main(["train", "--model", "gru", "--data", str(words_file), "--steps", "3",
                     "--n-embd", "5", "--n-embd2", "7", "--quiet", "--out", str(out)]) == 0
    gru = checkpoint.load(out).model
    assert gru.wte.weight.shape[1] == 5 and gru.start.shape == (1, 7)


@pytest.mark.parametrize("model_type", list(KINDS))
def test_top_k_one_is_greedy_and_a_large_k_changes_nothing(trained, capsys, model_type):
    path = str(trained[model_type])
    everything = run(capsys, "sample", "--checkpoint", path, "-n", "30", "--top-k", "1000")[1]
    assert everything == run(capsys, "sample", "--checkpoint", path, "-n", "30")[1]
    greedy = run(capsys, "sample", "--checkpoint", path, "-n", "6", "--top-k", "1")[1]
    ckpt = checkpoint.load(path)
    if model_type == "bigram":  # each character is a most likely one after the previous
        W, stoi = ckpt.model.W.detach(), ckpt.vocab.stoi
        for word in greedy.splitlines():
            ix = [0, *(stoi[c] for c in word)] + ([0] if len(word) < 50 else [])  # 50: cap
            assert all(W[a, b] == W[a].max() for a, b in zip(ix, ix[1:], strict=False))
        return
    assert len(set(greedy.splitlines())) == 1  # one word: the most likely character each time
    again = run(capsys, "sample", "--checkpoint", path, "-n", "6", "--top-k", "1", "--seed", "9")
    assert again[1] == greedy


def test_top_k_keeps_exactly_k_logits_per_row():
    logits = torch.randn(5, 27, generator=torch.Generator().manual_seed(0))
    kept = top_k_logits(logits, 3)
    assert (torch.isfinite(kept).sum(1) == 3).all()
    assert torch.equal(torch.where(torch.isfinite(kept))[1].view(5, 3).sort(1).values,
                       logits.topk(3).indices.sort(1).values)
    assert torch.equal(top_k_logits(logits, None), logits)


# ---------------------------------------------------------------------------- work dir, resume
def test_the_work_dir_keeps_the_best_and_the_latest(words_file, tmp_path, capsys):
    work = tmp_path / "work"
    status, out, _ = run(capsys, "train", "--model", "transformer", "--data", str(words_file),
                         "--steps", "30", "--eval-every", "10", "--work-dir", str(work),
                         "--quiet")
    assert status == 0
    assert sorted(p.name for p in work.iterdir()) == [".lock", "best.pt", "last.pt"]  # no more
    devs = [float(line.split("dev loss ")[1].split(",")[0]) for line in out.splitlines()
            if line.startswith("step ")]
    assert len(devs) == 3
    best, last = checkpoint.load(work / "best.pt"), checkpoint.load(work / "last.pt")
    assert last.meta["steps"] == 30 and last.meta["dev_loss"] == pytest.approx(devs[-1], abs=1e-4)
    assert best.meta["dev_loss"] == pytest.approx(min(devs), abs=1e-4)
    assert best.meta["steps"] == 10 * (devs.index(min(devs)) + 1)
    assert not (tmp_path / "checkpoints").exists()  # no --out: the work dir holds the run


def _interrupted_at(monkeypatch, after: int):
    """Make the next training stop with an interrupt after `after` steps."""
    real = cli.train

    def train(model, X, Y, cfg, callback=None, **kw):
        def stop(step, lr, loss):
            callback(step, lr, loss)
            if step + 1 == after:
                raise KeyboardInterrupt

        return real(model, X, Y, cfg, callback=stop, **kw)

    monkeypatch.setattr(cli, "train", train)


@pytest.mark.parametrize("model_type", ["mlp", "wavenet"])
def test_resuming_an_interrupted_run_finishes_it_exactly(model_type, words_file, tmp_path,
                                                         capsys, monkeypatch):
    """Plain SGD keeps no state besides the weights: a run interrupted at step 30 (its last.pt
    kept by the work dir) and resumed to 50 ends with the weights of the run never stopped."""
    base = ["train", "--model", model_type, "--data", str(words_file), "--steps", "50",
            "--quiet"]
    assert cli.main([*base, "--out", str(tmp_path / "straight.pt")]) == 0
    with monkeypatch.context() as m:
        _interrupted_at(m, 30)
        assert cli.main([*base, "--work-dir", str(tmp_path / "w"), "--eval-every", "10"]) == 130
    stopped = checkpoint.load(tmp_path / "w" / "last.pt")
    assert stopped.meta["steps"] == 30
    resume = ["train", "--data", str(words_file), "--steps", "50", "--quiet"]
    status, out, _ = run(capsys, *resume, "--resume", str(tmp_path / "w" / "last.pt"),
                         "--out", str(tmp_path / "resumed.pt"))
    assert status == 0 and "resuming" in out and "at step 30" in out
    a = checkpoint.load(tmp_path / "straight.pt")
    b = checkpoint.load(tmp_path / "resumed.pt")
    assert b.model_type == model_type and b.meta["steps"] == 50 and b.meta["resumed_at"] == 30
    for name, t in checkpoint.model_state(a.model).items():
        assert torch.equal(t, checkpoint.model_state(b.model)[name]), name


def test_resuming_adamw_continues_the_schedule(words_file, tmp_path, capsys, monkeypatch):
    first = tmp_path / "first.pt"
    assert cli.main(["train", "--model", "gru", "--data", str(words_file), "--steps", "20",
                     "--quiet", "--out", str(first)]) == 0
    lrs = []
    real = cli.train
    monkeypatch.setattr(cli, "train", lambda model, X, Y, cfg, callback=None, **kw: real(
        model, X, Y, cfg, callback=lambda s, lr, loss: (lrs.append(lr), callback(s, lr, loss)),
        **kw))
    status, out, _ = run(capsys, "train", "--data", str(words_file), "--steps", "60",
                         "--resume", str(first), "--out", str(tmp_path / "r.pt"), "--quiet")
    assert status == 0 and len(lrs) == 40
    recipe = KINDS["gru"].recipe
    schedule = WarmupLinear(recipe.lr, recipe.warmup_steps(60), 60)
    assert lrs == pytest.approx([schedule.lr_at(s) for s in range(20, 60)])
    before, after = checkpoint.load(first), checkpoint.load(tmp_path / "r.pt")
    assert after.meta["steps"] == 60 and after.model_type == "gru"
    assert not torch.equal(before.model.wte.weight, after.model.wte.weight)


def test_resume_refuses_another_model_or_vocabulary(trained, words_file, tmp_path, capsys):
    other = tmp_path / "other.txt"
    other.write_text("zoe\nquinn\nxavier\nyara\nwren\nvida\numa\n", encoding="utf-8")
    out = tmp_path / "r.pt"
    cases = [
        (["--model", "transformer", "--resume", str(trained["gru"])],
         ["holds a gru, not a transformer"]),
        (["--resume", str(trained["gru"]), "--data", str(other)], ["another word list"]),
        (["--resume", str(trained["gru"]), "--n-embd", "32"], ["--n-embd 32", "has 64"]),
        (["--resume", str(trained["gru"]), "--steps", str(STEPS)], ["--steps", "trained"]),
    ]
    for extra, phrases in cases:
        argv = ["train", "--data", str(words_file), "--steps", "80", "--quiet",
                "--out", str(out), *extra]
        assert_one_clear_line(*run(capsys, *argv), *phrases)
        assert not out.exists()


def test_the_registry_s_plan_is_the_run_of_the_command_line(trained, toy_words):
    """The chapters train the command line's models with `zoo.plan`: the same options give
    the checkpoint's weights."""
    plan = zoo.plan(toy_words, "gru", steps=STEPS, seed=SEED)
    train(plan.model, plan.X, plan.Y, plan.tcfg)
    want = checkpoint.model_state(checkpoint.load(trained["gru"]).model)
    for name, t in checkpoint.model_state(plan.model).items():
        assert torch.equal(t, want[name]), name
    with pytest.raises(zoo.OptionError, match="n_layer"):
        zoo.plan(toy_words, "gru", n_layer=2)


def test_readme_states_the_headline_transformer_the_chapter_trains():
    """The README's command for Chapter 6's headline model is the registry's."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    options = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in zoo.TRANSFORMER_BOOK.items()
                       if k != "n_head" or v != KINDS["transformer"].sizes["n_head"])
    steps = zoo.TRANSFORMER_BOOK_STEPS
    assert f"python -m makemore train --model transformer {options} --steps {steps}" in readme


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
@pytest.mark.parametrize("model_type", ["mlp", "transformer"])
def test_training_on_cuda_matches_the_cpu(model_type, words_file, tmp_path, capsys):
    """`--device cuda` trains on the GPU ("on cuda:0") and saves a checkpoint whose dev loss is
    the CPU run's up to float rounding (same seed, same minibatches)."""
    base = ["train", "--model", model_type, "--data", str(words_file), "--steps", "30",
            "--quiet"]
    assert cli.main([*base, "--out", str(tmp_path / "cpu.pt")]) == 0
    status, out, _ = run(capsys, *base, "--device", "cuda", "--out", str(tmp_path / "gpu.pt"))
    assert status == 0 and "on cuda" in out
    cpu, gpu = checkpoint.load(tmp_path / "cpu.pt"), checkpoint.load(tmp_path / "gpu.pt")
    assert abs(cpu.meta["dev_loss"] - gpu.meta["dev_loss"]) < 1e-3
