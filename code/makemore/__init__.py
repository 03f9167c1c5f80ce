"""makemore: the engine of the makemore book.

Character-level language models built up the way Karpathy's makemore lectures build them:
a bigram table and its one-layer neural twin (`bigram`), the Bengio et al. MLP (`mlp`),
from-scratch layers with BatchNorm (`layers`), the loop that trains them (`training`), the
statistics that show what training does inside (`diagnostics`), and the figures (`plots`).
`data` fetches and verifies the words they all learn from.
"""

__version__ = "0.1.0"
