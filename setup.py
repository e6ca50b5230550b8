"""Only the optional compiled part; everything else is in pyproject.toml.

`connectors.x12._speedups` (the X12 splitter's fast path in C) is optional: without a C
compiler the install still succeeds and the reader runs its pure-Python path, with the
same results (see docs/edi.md, "Reading speed").
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "connectors.x12._speedups",
            ["connectors/x12/_speedups.c"],
            optional=True,
        )
    ]
)
