"""The command line keeps its promises under bad input, interruption and resume.

Each test here reproduces a probe that once broke a promise of the README (one line and exit
status 2 for bad input; a checkpoint written whole or not at all; `--resume` continues the
run), and the last drives `train` and `sample` with generated word lists and options.
"""

from __future__ import annotations

import errno
import fcntl
import math
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import replace

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from makemore import bigram, checkpoint, cli, data, zoo
from makemore.bigram import count_matrix, counting_probs, nll
from makemore.data import bigram_pairs, split_words
from makemore.training import split_loss
from makemore.zoo import KINDS

TINY = {"mlp": ["--n-embd", "4", "--n-hidden", "8"],
        "bn-mlp": ["--n-embd", "4", "--n-hidden", "8"],
        "wavenet": ["--n-embd", "4", "--n-hidden", "8"], "rnn": ["--n-embd", "8", "--n-embd2", "8"],
        "gru": ["--n-embd", "8", "--n-embd2", "8"], "bow": ["--n-embd", "8", "--n-embd2", "8"],
        "transformer": ["--n-layer", "1", "--n-embd", "8", "--n-head", "2", "--dropout", "0.1"],
        "bigram": []}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def one_line(status: int, err: str, *phrases: str) -> None:
    assert status == 2, (status, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("makemore: error: "), err
    for phrase in phrases:
        assert phrase in lines[0], (phrase, lines[0])


@pytest.fixture
def words_file(tmp_path, toy_words):
    path = tmp_path / "words.txt"
    path.write_text("\n".join(toy_words * 3) + "\n", encoding="utf-8")
    return path


def train_argv(words_file, *extra: str) -> list[str]:
    return ["train", "--data", str(words_file), "--quiet", *extra]


# -----------------------------------------------------------------------------
# 1. resuming keeps the best model the best


def test_last_pt_knows_the_best_so_far_and_a_resumed_run_keeps_it(words_file, tmp_path,
                                                                   capsys):
    work = tmp_path / "w"
    assert cli.main(train_argv(words_file, "--steps", "40", "--eval-every", "20",
                               "--work-dir", str(work))) == 0
    best, last = checkpoint.load(work / "best.pt"), checkpoint.load(work / "last.pt")
    assert last.meta["best_dev_loss"] == best.meta["dev_loss"] <= last.meta["dev_loss"]
    # a resumed step at a rate that ruins the model must not be saved as the best
    status, _, _ = run(capsys, *train_argv(words_file, "--steps", "41", "--lr", "30",
                                           "--work-dir", str(work), "--resume",
                                           str(work / "last.pt")))
    assert status == 0
    after = checkpoint.load(work / "best.pt")
    assert after.meta["dev_loss"] <= best.meta["dev_loss"]
    assert checkpoint.load(work / "last.pt").meta["best_dev_loss"] == after.meta["dev_loss"]


# -----------------------------------------------------------------------------
# 2. what training may replace, and what it writes


def test_out_never_replaces_what_is_not_a_checkpoint(words_file, tmp_path, capsys):
    before = words_file.read_bytes()
    one_line(*run(capsys, *train_argv(words_file, "--steps", "2", "--out",
                                      str(words_file)))[::2], "not a makemore checkpoint")
    assert words_file.read_bytes() == before
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    one_line(*run(capsys, *train_argv(words_file, "--steps", "2", "--out", str(notes)))[::2],
             "not a makemore checkpoint")
    assert notes.read_text() == "mine\n"
    # a checkpoint of ours may be replaced
    out = tmp_path / "m.pt"
    assert cli.main(train_argv(words_file, "--steps", "2", "--out", str(out))) == 0
    assert cli.main(train_argv(words_file, "--steps", "3", "--out", str(out))) == 0
    assert checkpoint.load(out).meta["steps"] == 3


def test_outputs_that_cannot_be_written_are_refused_before_training(words_file, tmp_path,
                                                                     capsys):
    (tmp_path / "w" / "last.pt").mkdir(parents=True)
    one_line(*run(capsys, *train_argv(words_file, "--work-dir", str(tmp_path / "w")))[::2],
             "last.pt", "folder")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    one_line(*run(capsys, *train_argv(words_file, "--out", str(blocker / "m.pt")))[::2],
             "is a file, not a folder")
    one_line(*run(capsys, *train_argv(words_file, "--work-dir", str(blocker)))[::2],
             "is a file")


# -----------------------------------------------------------------------------
# 3. a run that diverges is no checkpoint


@pytest.mark.parametrize("model, lr", [("bigram", "1e6"), ("mlp", "1e30"), ("gru", "1e3")])
def test_a_diverged_run_writes_nothing_and_says_so(model, lr, words_file, tmp_path, capsys):
    out = tmp_path / "m.pt"
    status, _, err = run(capsys, *train_argv(words_file, "--model", model, "--lr", lr,
                                             "--steps", "60", "--out", str(out)))
    one_line(status, err, "diverged", "--lr")
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["words.txt"]  # no temporary file either


def test_a_work_dir_keeps_no_checkpoint_of_a_diverged_step(words_file, tmp_path, capsys):
    work = tmp_path / "w"
    mlp = train_argv(words_file, "--model", "mlp", *TINY["mlp"], "--eval-every", "10",
                     "--work-dir", str(work))
    status, _, err = run(capsys, *mlp, "--lr", "1e30", "--steps", "40")  # finite, and huge
    one_line(status, err, "diverged", "at step 10", "no checkpoint of it was written")
    assert sorted(p.name for p in work.iterdir()) == [".lock"]


def test_a_run_that_diverges_later_says_which_checkpoints_it_kept(words_file, tmp_path,
                                                                  capsys, monkeypatch):
    real = cli.train

    def blown_up_after_step_15(model, *args, callback=None, **kw):
        def step(i, lr, loss):
            callback(i, lr, loss)
            if i + 1 == 15:
                with torch.no_grad():
                    for p in model.parameters():
                        p.mul_(1e8)  # the loss stays a number, a huge one
        return real(model, *args, callback=step, **kw)

    monkeypatch.setattr(cli, "train", blown_up_after_step_15)
    work = tmp_path / "w"
    status, _, err = run(capsys, *train_argv(words_file, "--model", "mlp", *TINY["mlp"],
                                             "--steps", "40", "--eval-every", "10",
                                             "--work-dir", str(work)))
    one_line(status, err, "diverged", "at step 20", "nothing after step 10 was written",
             f"{work / 'last.pt'} holds step 10", f"{work / 'best.pt'} holds step 10")
    for name in ("last.pt", "best.pt"):
        kept = checkpoint.load(work / name)
        assert kept.meta["steps"] == 10
        assert kept.meta["dev_loss"] < cli.DIVERGED * math.log(len(kept.vocab))


def test_loading_refuses_weights_that_are_not_finite(words_file, tmp_path):
    out = tmp_path / "m.pt"
    assert cli.main(train_argv(words_file, "--steps", "2", "--out", str(out))) == 0
    payload = torch.load(out, weights_only=True)
    payload["state"]["0.weight"][0, 0] = float("nan")
    torch.save(payload, out)
    with pytest.raises(checkpoint.CheckpointError, match="not finite"):
        checkpoint.load(out)
    plan = zoo.plan(["ab", "ba", "abba"] * 5, "bigram")  # and none is ever written
    plan.model.W.data[0, 0] = float("inf")
    with pytest.raises(ValueError, match="not finite"):
        checkpoint.save(tmp_path / "x.pt", "bigram", {"vocab_size": 3}, plan.vocab, plan.model)
    assert not (tmp_path / "x.pt").exists()


# -----------------------------------------------------------------------------
# 4. long words, and evaluation that does not grow with the split


def test_a_word_too_long_for_the_sequence_models_is_refused(tmp_path, toy_words, capsys):
    path = tmp_path / "long.txt"
    path.write_text("\n".join(toy_words * 30 + ["a" * 10_000]) + "\n")
    for model in ("transformer", "rnn"):
        t0 = time.perf_counter()
        one_line(*run(capsys, "train", "--data", str(path), "--model", model, "--steps",
                      "5", "--quiet")[::2], "10000 characters", str(zoo.MAX_WORD))
        assert time.perf_counter() - t0 < 5
    # a window model reads a long word as one example per character
    assert cli.main(["train", "--data", str(path), "--steps", "3", "--quiet", "--out",
                     str(tmp_path / "m.pt")]) == 0


def test_a_split_is_scored_a_slice_at_a_time_with_the_same_loss(toy_words, monkeypatch):
    for name in ("mlp", "transformer"):
        plan = zoo.plan(toy_words * 4, name, seed=1)
        whole = split_loss(plan.model, plan.X, plan.Y)
        monkeypatch.setattr("makemore.training.EVAL_POSITIONS", 7)  # slices of a few rows
        assert split_loss(plan.model, plan.X, plan.Y) == pytest.approx(whole, rel=1e-6)
        monkeypatch.undo()


# -----------------------------------------------------------------------------
# 5. resuming is the run it continues, on the data it started with


@pytest.mark.parametrize("model", list(TINY))
def test_an_interrupted_run_resumed_ends_bit_identical(model, words_file, tmp_path, capsys,
                                                       monkeypatch):
    base = train_argv(words_file, "--model", model, *TINY[model], "--steps", "16")
    assert cli.main([*base, "--out", str(tmp_path / "straight.pt")]) == 0
    real = cli.train

    def interrupted(*args, callback=None, **kw):
        def stop(step, lr, loss):
            callback(step, lr, loss)
            if step + 1 == 8:
                raise KeyboardInterrupt
        return real(*args, callback=stop, **kw)

    with monkeypatch.context() as m:
        m.setattr(cli, "train", interrupted)
        assert cli.main([*base, "--work-dir", str(tmp_path / "w"), "--eval-every", "4"]) == 130
    assert checkpoint.load(tmp_path / "w" / "last.pt").meta["steps"] == 8
    resumed = train_argv(words_file, "--steps", "16", "--resume",
                         str(tmp_path / "w" / "last.pt"), "--out", str(tmp_path / "r.pt"))
    assert cli.main(resumed) == 0
    a, b = checkpoint.load(tmp_path / "straight.pt"), checkpoint.load(tmp_path / "r.pt")
    sa, sb = checkpoint.model_state(a.model), checkpoint.model_state(b.model)
    assert all(torch.equal(sa[k], sb[k]) for k in sa), model
    capsys.readouterr()


def test_resume_refuses_other_data_and_another_minibatch_stream(words_file, tmp_path,
                                                                capsys):
    first = tmp_path / "m.pt"
    assert cli.main(train_argv(words_file, "--model", "gru", *TINY["gru"], "--steps", "4",
                               "--out", str(first))) == 0
    same_letters = tmp_path / "shuffled.txt"
    same_letters.write_text("\n".join(reversed(words_file.read_text().split())) + "\n")
    resume = ["train", "--quiet", "--steps", "8", "--resume", str(first), "--out",
              str(tmp_path / "r.pt")]
    cases = [([], "another word list"),  # names.txt, by default
             (["--data", str(same_letters)], "another word list"),
             (["--data", str(words_file), "--seed", "7"], "--seed 7"),
             (["--data", str(words_file), "--batch-size", "5"], "--batch-size 5")]
    for extra, phrase in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # names.txt may be the census fallback here
            one_line(*run(capsys, *resume, *extra)[::2], phrase)
    assert not (tmp_path / "r.pt").exists()


# -----------------------------------------------------------------------------
# 6. every option has a bound


@pytest.mark.parametrize("extra, phrase", [
    (["--steps", "100000000000"], "--steps"),
    (["--model", "mlp", "--n-hidden", "1000000000"], "--n-hidden"),
    (["--batch-size", "100000000000"], "--batch-size"),
    (["--block-size", "100000000"], "--block-size"),
    (["--model", "mlp", "--n-hidden", "16000", "--n-embd", "4000", "--block-size", "200"],
     "parameters"),
    (["--model", "transformer", "--n-layer", "64", "--n-embd", "4096"], "parameters"),
    (["--eval-every", "0"], "--eval-every"),
])
def test_sizes_that_cannot_be_allocated_are_refused(extra, phrase, words_file, capsys):
    t0 = time.perf_counter()
    one_line(*run(capsys, *train_argv(words_file, *extra))[::2], phrase)
    assert time.perf_counter() - t0 < 5


# -----------------------------------------------------------------------------
# a full disk, a closed stdout


class _FullDisk:
    """A binary file on a disk with `room` bytes left: a write beyond them fails as a full
    disk's does (ENOSPC)."""

    def __init__(self, f, room: int):
        self.f, self.room = f, room

    def write(self, data) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.f.write(data)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


@pytest.mark.parametrize("where", ["--work-dir", "--out"])
def test_a_full_disk_is_one_line_and_leaves_what_was_there(where, words_file, tmp_path, capsys,
                                                          monkeypatch):
    target = tmp_path / "w" if where == "--work-dir" else tmp_path / "m.pt"
    argv = train_argv(words_file, "--model", "transformer", *TINY["transformer"], "--steps",
                      "4", "--eval-every", "2", where, str(target))
    assert cli.main(argv) == 0
    kept = target / "last.pt" if where == "--work-dir" else target
    before = kept.read_bytes()
    real = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, mode="r", *a, **kw: _FullDisk(
        real(fd, mode, *a, **kw), room=1000) if "b" in mode else real(fd, mode, *a, **kw))
    status, _, err = run(capsys, *argv)
    monkeypatch.undo()
    assert status == 1, err
    lines = err.splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0], err
    assert f"could not write {kept}" in lines[0] and "left as it was" in lines[0]
    assert kept.read_bytes() == before  # the last whole one
    assert not [p for p in tmp_path.rglob("*.tmp")]


class _Pipe:
    """stdout to a reader that takes `lines` lines and goes (`| head -n lines`)."""

    def __init__(self, lines: int):
        self.lines, self.text = lines, ""

    def write(self, text: str) -> int:
        if self.text.count("\n") >= self.lines:
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))
        self.text += text
        return len(text)

    def flush(self) -> None:
        if self.text.count("\n") > self.lines:
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


def test_train_goes_on_quietly_when_its_reader_goes(words_file, tmp_path, capsys,
                                                   monkeypatch):
    out = tmp_path / "m.pt"
    monkeypatch.setattr(sys, "stdout", _Pipe(1))  # train ... | head -1
    status = cli.main(train_argv(words_file, "--steps", "4", "--work-dir",
                                 str(tmp_path / "w"), "--eval-every", "2", "--out", str(out)))
    monkeypatch.undo()
    assert (status, capsys.readouterr().err) == (0, "")
    assert checkpoint.load(out).meta["steps"] == 4


def test_a_step_that_would_not_fit_in_memory_is_refused_before_training(words_file, tmp_path,
                                                                        capsys, monkeypatch):
    monkeypatch.setattr(zoo, "available_memory", lambda: 8 << 30)  # a machine with 8 GiB free
    out = tmp_path / "m.pt"
    transformer = train_argv(words_file, "--model", "transformer", "--steps", "1", "--out",
                             str(out))
    t0 = time.perf_counter()
    status, _, err = run(capsys, *transformer, "--batch-size", "65536")  # each size allowed
    one_line(status, err, "--batch-size 65536", "GiB", "8.0 GiB available")
    assert time.perf_counter() - t0 < 5 and not out.exists()
    assert cli.main([*transformer, "--batch-size", "32"]) == 0  # the recipe's fits
    # the estimate is the registry's: it grows with the batch, the words' length and the sizes
    plan = zoo.plan(["ab", "ba", "abba"] * 10, "transformer", steps=1)
    kind, config = plan.kind, plan.config
    step = kind.step_bytes(config, 32)
    assert kind.step_bytes(config, 64) - step == step - kind.step_bytes(config, 0) > 0
    for bigger in (dict(n_embd=128), dict(n_layer=8), dict(block_size=10)):
        assert kind.step_bytes(replace(config, **bigger), 32) > step


# -----------------------------------------------------------------------------
# 7, 8. streamed samples, closed pipes and SIGTERM


def _cli(*argv: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "makemore", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def test_samples_come_in_batches_and_a_closed_pipe_ends_quietly(words_file, tmp_path, capsys):
    out = tmp_path / "m.pt"
    assert cli.main(train_argv(words_file, "--model", "bigram", "--steps", "5", "--out",
                               str(out))) == 0
    capsys.readouterr()
    many = run(capsys, "sample", "--checkpoint", str(out), "-n", "2500")[1].splitlines()
    few = run(capsys, "sample", "--checkpoint", str(out), "-n", "1000")[1].splitlines()
    assert len(many) == 2500 and many[:1000] == few
    proc = subprocess.run(f"{sys.executable} -m makemore sample --checkpoint {out} "
                          "-n 100000000 | head -n 3", shell=True, capture_output=True,
                          text=True, timeout=60)
    assert len(proc.stdout.splitlines()) == 3 and proc.stderr == ""


def test_a_temperature_near_zero_samples_the_greedy_choice(words_file, tmp_path, capsys):
    out = tmp_path / "m.pt"
    assert cli.main(train_argv(words_file, "--steps", "20", "--out", str(out))) == 0
    capsys.readouterr()
    sample = ["sample", "--checkpoint", str(out), "-n", "20"]
    status, cold, err = run(capsys, *sample, "--temperature", "1e-300")  # logits / t overflow
    assert (status, err) == (0, "")
    assert cold == run(capsys, *sample, "--top-k", "1")[1]  # the most likely, every time


def test_sample_with_stdout_closed_is_one_line(words_file, tmp_path, capsys, monkeypatch):
    out = tmp_path / "m.pt"
    assert cli.main(train_argv(words_file, "--steps", "2", "--out", str(out))) == 0
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdout", None)  # sample ... >&-
    status = cli.main(["sample", "--checkpoint", str(out)])
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert status == 1 and len(err.splitlines()) == 1 and "standard output" in err, err


@pytest.mark.parametrize("signal_, said, code", [(KeyboardInterrupt, "interrupted", 130),
                                                 (cli.Terminated, "terminated", 143)])
def test_a_stopped_sample_says_nothing_about_checkpoints(signal_, said, code, words_file,
                                                         tmp_path, capsys, monkeypatch):
    out = tmp_path / "m.pt"
    assert cli.main(train_argv(words_file, "--steps", "2", "--out", str(out))) == 0
    capsys.readouterr()

    def stopped(*args, **kw):
        raise signal_

    monkeypatch.setattr(cli, "sample", stopped)
    assert run(capsys, "sample", "--checkpoint", str(out))[::2] == (code, f"makemore: {said}\n")


def test_sigterm_ends_a_run_with_one_line_and_no_temporary_file(words_file, tmp_path):
    work = tmp_path / "w"
    proc = _cli("train", "--data", str(words_file), "--model", "gru", *TINY["gru"],
                "--steps", "100000", "--eval-every", "5", "--work-dir", str(work), "--quiet")
    deadline = time.time() + 60
    while not (work / "last.pt").exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert err.splitlines() == ["makemore: terminated; no checkpoint was left half-written"]
    kept = {p.name for p in work.iterdir()}  # no temporary file (the empty .lock stays)
    assert "last.pt" in kept and kept <= {"best.pt", "last.pt", ".lock"}
    for name in kept - {".lock"}:
        checkpoint.load(work / name)  # whole


# -----------------------------------------------------------------------------
# 9. the bigram's default rate on a small alphabet


@pytest.mark.parametrize("alphabet", ["a", "acgt"])
def test_the_bigram_learns_on_a_small_alphabet(alphabet, tmp_path, capsys):
    g = torch.Generator().manual_seed(0)
    words = ["".join(alphabet[i] for i in torch.randint(0, len(alphabet), (n,), generator=g))
             for n in torch.randint(1, 9, (300,), generator=g).tolist()]
    path = tmp_path / "w.txt"
    path.write_text("\n".join(words) + "\n")
    out = tmp_path / "m.pt"
    assert cli.main(["train", "--data", str(path), "--model", "bigram", "--quiet", "--out",
                     str(out)]) == 0
    ckpt = checkpoint.load(out)
    xs, ys = bigram_pairs(split_words(words)[0], ckpt.vocab)  # the pairs it trained on
    optimum = nll(counting_probs(count_matrix(xs, ys, len(ckpt.vocab)), 0.0), xs, ys)
    assert optimum < math.log(len(ckpt.vocab))  # the data has something to learn
    assert ckpt.meta["train_loss"] < optimum + 0.01  # and the rate is small enough to learn it


def test_the_bigram_s_rate_on_a_large_alphabet_is_bounded_without_v_cubed(tmp_path, capsys,
                                                                          monkeypatch):
    # 2,000 characters: their V Hessians of V x V would take 64 GB
    chars = [chr(0x4E00 + i) for i in range(2000)]
    path = tmp_path / "w.txt"
    path.write_text("\n".join(chars[i] + chars[(7 * i) % 2000] for i in range(2000)) + "\n")
    t0 = time.perf_counter()
    assert cli.main(["train", "--data", str(path), "--model", "bigram", "--steps", "2",
                     "--quiet", "--out", str(tmp_path / "m.pt")]) == 0
    assert time.perf_counter() - t0 < 10
    # the bound never gives a rate above the stable one
    g = torch.Generator().manual_seed(0)
    for V in (3, 12, 40):
        xs = torch.randint(0, V, (500,), generator=g)
        ys = (xs + torch.randint(0, 3, (500,), generator=g)) % V  # peaked rows
        exact = bigram.stable_lr(xs, ys, V)
        monkeypatch.setattr(bigram, "EXACT_CURVATURE_VOCAB", 0)
        assert 0 < bigram.stable_lr(xs, ys, V) <= exact
        monkeypatch.undo()


# -----------------------------------------------------------------------------
# 10. no control character reaches the terminal


@pytest.mark.parametrize("text, phrase", [
    ("emma\nbo\x1b[31mb\n", "'\\x1b'"),
    ("emma\nbo\u0085b\n", "'\\x85'"),
    ("emma\nbo\u2028b\n", "'\\u2028'"),
    ("emma\nbo\x07\n", "'\\x07'"),
])
def test_words_with_control_characters_are_refused(text, phrase, tmp_path):
    path = tmp_path / "w.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(data.DataError, match="line 2") as err:
        data.read_words(path)
    assert phrase in str(err.value)


def test_a_byte_order_mark_is_not_a_character(tmp_path):
    path = tmp_path / "w.txt"
    path.write_bytes("\ufeffemma\r\nbo\r\n".encode())
    assert data.read_words(path) == ["emma", "bo"]


def test_a_checkpoint_whose_vocabulary_holds_escapes_is_refused(words_file, tmp_path):
    out = tmp_path / "m.pt"
    assert cli.main(train_argv(words_file, "--model", "bigram", "--steps", "2", "--out",
                               str(out))) == 0
    payload = torch.load(out, weights_only=True)
    payload["vocab"][1] = "\x1b"
    torch.save(payload, out)
    with pytest.raises(checkpoint.CheckpointError, match="printable"):
        checkpoint.load(out)


def test_checkpoint_text_reaches_the_terminal_escaped(words_file, tmp_path, capsys):
    out = tmp_path / "m.pt"
    assert cli.main(train_argv(words_file, "--model", "bigram", "--steps", "2", "--out",
                               str(out))) == 0
    payload = torch.load(out, weights_only=True)
    payload["meta"]["data"] = "\x1b]0;pwned\x07\x1b[2J"
    torch.save(payload, out)
    other = tmp_path / "other.txt"
    other.write_text("\n".join(reversed(words_file.read_text().split())) + "\n")
    status, _, err = run(capsys, "train", "--data", str(other), "--quiet", "--steps", "4",
                         "--resume", str(out))
    one_line(status, err, "another word list", "'\\x1b]0;pwned\\x07\\x1b[2J'")
    assert all(c.isprintable() for c in err.rstrip("\n"))


# -----------------------------------------------------------------------------
# checkpoints crafted by hand: refused by `checkpoint.load`, before they are used


def _crafted(path, change) -> None:
    payload = torch.load(path, weights_only=True)
    change(payload)
    torch.save(payload, path)


@pytest.mark.parametrize("model, field, value, phrase", [
    ("mlp", "n_hidden", 20_000, "n_hidden 20000: at most 16,384"),  # beyond the bound
    ("mlp", "vocab_size", 10**7, "parameters"),  # counted before anything is allocated
    ("mlp", "batchnorm", True, "'batchnorm'"),  # not the config the mlp's sizes make
    ("transformer", "n_head", 0, "positive"),  # no division by zero building it
    ("gru", "block_size", 100, "up to 32"),  # words no longer than the data may have
])
def test_a_crafted_config_is_refused_before_the_model_is_built(model, field, value, phrase,
                                                                 words_file, tmp_path):
    out = tmp_path / "m.pt"
    assert cli.main(train_argv(words_file, "--model", model, *TINY[model], "--steps", "1",
                               "--out", str(out))) == 0
    _crafted(out, lambda p: p["config"].__setitem__(field, value))
    with pytest.raises(checkpoint.CheckpointError, match="broken") as err:
        checkpoint.load(out)
    assert phrase in str(err.value) and len(str(err.value).splitlines()) == 1


def _set(where: str, key: str, value):
    return lambda p: p[where].__setitem__(key, value)


def _opt(change):
    return lambda p: change(p["training"]["optimizer"])


@pytest.mark.parametrize("model, change, phrase", [
    ("gru", _set("meta", "lr", "fast"), "'lr'"),
    ("gru", _set("meta", "weight_decay", "x"), "'weight_decay'"),
    ("gru", _set("meta", "seed", -4), "'seed'"),
    ("gru", _set("meta", "batch_size", -4), "'batch_size'"),
    ("gru", _opt(lambda o: o["0"].__setitem__("exp_avg", torch.zeros(3))), "optimizer state 0"),
    ("gru", _opt(lambda o: o.__setitem__("99", o["0"])), "parameters the model does not have"),
    ("mlp", _opt(lambda o: o.__setitem__("0", {})), "plain SGD"),
    ("transformer", _set("training", "forward_rng", torch.zeros(3, dtype=torch.uint8)),
     "random state"),
])
def test_a_crafted_run_state_is_refused_before_a_resume_uses_it(model, change, phrase,
                                                                words_file, tmp_path, capsys):
    out = tmp_path / "m.pt"
    assert cli.main(train_argv(words_file, "--model", model, *TINY[model], "--steps", "2",
                               "--out", str(out))) == 0
    _crafted(out, change)
    status, _, err = run(capsys, *train_argv(words_file, "--steps", "4", "--resume", str(out),
                                             "--out", str(tmp_path / "r.pt")))
    one_line(status, err, "broken", phrase)
    assert not (tmp_path / "r.pt").exists()


# -----------------------------------------------------------------------------
# 11. one run per work folder


def test_a_second_run_in_the_same_work_dir_is_refused(words_file, tmp_path, capsys):
    work = tmp_path / "w"
    work.mkdir()
    with open(work / ".lock", "a+") as held:  # another run holds the folder
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        one_line(*run(capsys, *train_argv(words_file, "--steps", "2", "--work-dir",
                                          str(work)))[::2], "another training run")
    assert cli.main(train_argv(words_file, "--steps", "2", "--work-dir", str(work))) == 0
    assert sorted(p.name for p in work.iterdir()) == [".lock", "best.pt", "last.pt"]


def test_the_lock_file_outlives_the_run_so_every_run_locks_the_same_file(words_file, tmp_path):
    # a run that opened .lock while another held it must, once it gets the lock, hold the
    # file every later run opens: had the first run removed it, a third run would create and
    # lock a new .lock while the second holds the removed one, and both would write
    work = tmp_path / "w"
    work.mkdir()
    with open(work / ".lock", "a+") as waiting:  # a run that opened it, waiting its turn
        assert cli.main(train_argv(words_file, "--steps", "2", "--work-dir", str(work))) == 0
        assert (work / ".lock").exists()
        assert os.fstat(waiting.fileno()).st_ino == os.stat(work / ".lock").st_ino
        fcntl.flock(waiting, fcntl.LOCK_EX | fcntl.LOCK_NB)  # its turn: the folder's lock
        with open(work / ".lock", "a+") as third:  # so a third run is refused
            with pytest.raises(BlockingIOError):
                fcntl.flock(third, fcntl.LOCK_EX | fcntl.LOCK_NB)


# -----------------------------------------------------------------------------
# 12. the benchmarks measure against names.txt only


def test_a_names_yardstick_refuses_other_data(monkeypatch):
    def offline(quiet=True):
        raise OSError("no network")

    monkeypatch.setattr(data, "fetch_names", offline)
    with pytest.raises(data.DataError, match="no verified names.txt"):
        data.load_corpus(require_names=True)


# -----------------------------------------------------------------------------
# generated word lists and options: most make a run, some are refused


ALPHABETS = ["ab", "acgt", "abcdefghijklmnopqrstuvwxyz", "éüß", "日本語", "ab'-", "AZaz09"]
BAD_LISTS = ["", "\n \n", "emma\nbo\x1bb\n", "emma\nbo b\n", "emma\n.\n", "a" * 40 + "\nbo\n",
             "emma\u2028bo\n"]
BAD_VALUES = {"--steps": ["0", "-1", "1e20", "x"], "--lr": ["nan", "-1", "inf", "x"],
              "--batch-size": ["0", "-3", "100000000000"], "--seed": ["-1", str(2**63)]}


@st.composite
def runs(draw) -> tuple[str, list[str]]:
    """A word list and the options of `train` for it: every value in its valid range, except,
    in 6 runs of 13, one thing: the list, or one option's value."""
    broken = draw(st.sampled_from([None] * 7 + ["data", *BAD_VALUES]))
    if broken == "data":
        text = draw(st.sampled_from(BAD_LISTS))
    else:
        alphabet = draw(st.sampled_from(ALPHABETS))
        words = draw(st.lists(st.text(alphabet, min_size=1, max_size=10), min_size=8,
                              max_size=40))
        text = "\n".join(words) + "\n"
    model = draw(st.sampled_from(list(KINDS)))
    options = {"--model": model, "--steps": str(draw(st.integers(1, 4))),
               "--lr": draw(st.sampled_from([None, "1e-3", "0.1", "1", "1e30"])),
               "--seed": draw(st.one_of(st.none(), st.integers(0, 2**63 - 1).map(str)))}
    if model != "bigram":  # the bigram trains on every pair at once
        options["--batch-size"] = draw(st.one_of(st.none(), st.integers(2, 9).map(str)))
    if broken in BAD_VALUES:
        options[broken] = draw(st.sampled_from(BAD_VALUES[broken]))
    argv = [word for flag, value in options.items() if value is not None
            for word in (flag, value)] + TINY[model][:4]
    if draw(st.booleans()):
        argv += ["--work-dir", "WORK", "--eval-every", str(draw(st.integers(1, 2)))]
    return text, argv


def test_train_and_sample_never_trace_back(tmp_path, capsys):
    seen = {"trained": 0, "sampled": 0, "refused": 0}

    @settings(max_examples=30, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(run_=runs(), temperature=st.sampled_from(["1", "0.5", "1e-300"]))
    def check(run_, temperature):
        text, options = run_
        path, out, work = tmp_path / "gen.txt", tmp_path / "gen.pt", tmp_path / "work"
        path.write_text(text, encoding="utf-8")
        out.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
        options = [str(work) if word == "WORK" else word for word in options]
        status = cli.main(["train", "--data", str(path), "--quiet", "--out", str(out),
                           *options])  # an exception here is the traceback a user would see
        _, err = capsys.readouterr()
        assert status in (0, 2), err
        for kept in ("last.pt", "best.pt"):  # whatever a run kept, refused or not, is sound
            if (work / kept).exists():
                ckpt = checkpoint.load(work / kept)
                dev = ckpt.meta["dev_loss"]
                assert dev is None or dev < cli.DIVERGED * math.log(len(ckpt.vocab)), err
        if status == 2:
            assert len(err.splitlines()) == 1 and err.startswith("makemore: error: "), err
            assert not out.exists()
            seen["refused"] += 1
            return
        ckpt = checkpoint.load(out)  # whole, finite, ours
        assert all(torch.isfinite(t).all() for t in checkpoint.model_state(ckpt.model).values())
        assert ckpt.meta["train_loss"] < cli.DIVERGED * math.log(len(ckpt.vocab))
        seen["trained"] += 1
        status, printed, err = run(capsys, "sample", "--checkpoint", str(out), "-n", "5",
                                   "--temperature", temperature)
        if status == 2:
            assert len(err.splitlines()) == 1, err
            return
        assert status == 0 and err == "", err
        assert len(printed.splitlines()) == 5
        assert all(c.isprintable() for c in printed.replace("\n", ""))
        seen["sampled"] += 1

    check()
    # the runs were runs: most trained and sampled, and some were refused
    assert seen["sampled"] >= 15 and seen["refused"] >= 3, seen
