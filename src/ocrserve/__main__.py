"""`python -m ocrserve` is the `ocrserve` command."""

from .cli import main

raise SystemExit(main())
