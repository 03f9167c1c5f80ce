"""makemore: the engine of the makemore book.

Character-level language models built up the way Karpathy's makemore lectures build them. The
modules, bottom to top (imports run one way, and a test checks it):

- `lecture` (what the lectures set and printed), `files` (the one atomic write), `stats` (the
  one spread of repeated runs);
- `data`: the verified word list, its vocabulary, pairs, windows and the canonical split;
- the models: `bigram`, `ngram` (counting), `layers` (from-scratch layers with a hand-written
  backward), `mlp`, `wavenet`, `sequences` (whole padded words), `recurrent`, `transformer`,
  and `sampling`, the one sampler;
- `training`: the one loop, its schedules and evaluation;
- `diagnostics`, `parallel` and `zoo`, the registry of every kind of model by name;
- `figures`, `publish`, `results`: what the book's pages show;
- `checkpoint` and `cli`: `python -m makemore train` and `sample`.
"""

__version__ = "0.1.0"
