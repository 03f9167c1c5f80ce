"""`python -m makemore`: train a model on a word list, or sample words from a checkpoint.

See makemore.cli, or run `python -m makemore --help`.
"""

from makemore.cli import main

raise SystemExit(main())
