"""`python -m omshub.cli` runs the same app as the `omshub` console script."""

from omshub.cli import app

app()
