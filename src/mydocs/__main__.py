"""`python -m mydocs` is the `mydocs` console script."""

from mydocs.cli.main import main

raise SystemExit(main())
