"""The transforms page: every named transform and the expression language, with examples
whose outputs come from running them (`omshub.refdocs.runexamples`)."""

from __future__ import annotations

import inspect

from omshub.refdocs.examples import EXPR_EXAMPLES, TRANSFORM_EXAMPLES, Example
from omshub.refdocs.md import GENERATED, anchor, block, code, value
from omshub.refdocs.runexamples import run_example
from transforms.functions import TransformFn, registry

INTRO = """\
# Transforms and expressions reference

A field of a mapping cleans its value with named transforms, in order
(`transforms: [strip, {lstrip: "0"}]`: a name, or `{name: argument}` or
`{name: [arguments]}`), or computes it with an expression (`expr: "qty * price"`) that
calls the same functions by name. Every example below was run by the generator through
both engines (per record and columnar); the `->` line is what they produced. Decimals are
exact; a value that cannot be converted rejects its record (quarantined, with the reason).
"""

EXPR_INTRO = """\
## Expressions

`expr:` takes a small, safe language (parsed, never evaluated as Python): paths into the
record (`customer.email`, `lines[0].sku`, `_parent.name` for the parent record,
`at('SEG[QUAL=X].Y')` for any path with selectors), text, numbers, `true`/`false`/`null`
(as `True`, `False`, `None`), `+ - * /` on exact decimals, comparisons
(`== != < <= > >=`; text compared with a number compares as a number), `and`, `or`,
`not`, `a if condition else b`, and calls of the named transforms above with positional
arguments. Arithmetic with a null operand gives null. At most 1000 characters and 200
parts.
"""


def builtins() -> dict[str, TransformFn]:
    """The transforms omshub ships (plugins document themselves)."""
    return {
        n: t for n, t in sorted(registry().items()) if t.fn.__module__.startswith("transforms.")
    }


def _signature(t: TransformFn) -> str:
    params = [
        str(p.replace(annotation=inspect.Parameter.empty))
        for p in inspect.signature(t.fn).parameters.values()
    ]
    return f"{t.name}({', '.join(params)})"


def render_example(example: Example) -> str:
    out = run_example(example)
    result = (
        f"# -> rejected: {out.rejected}"
        if out.rejected is not None
        else f"# -> {out.column}: {value(out.value)}"
    )
    return block(f"# record: {value(example.record)}\n{example.field}\n{result}", "yaml")


def _transform(t: TransformFn) -> str:
    facts = [
        "null in, null out" if t.null_passthrough else "also called with null",
        "columnar" if t.vectorised is not None else "runs per value on the columnar path",
    ]
    parts = [f"### {t.name}", f"{code(_signature(t))}: {t.doc}", f"*{'; '.join(facts)}*"]
    parts += [render_example(e) for e in TRANSFORM_EXAMPLES if e.topic == t.name]
    if not any(e.topic == t.name for e in TRANSFORM_EXAMPLES):
        parts.append("(no example yet: add one in `omshub/refdocs/examples.py`)")
    return "\n\n".join(parts)


def render() -> str:
    fns = builtins()
    toc = " · ".join(f"[{n}](#{anchor(n)})" for n in fns)
    body = [_transform(t) for t in fns.values()]
    topics = list(dict.fromkeys(e.topic for e in EXPR_EXAMPLES))
    expr = [EXPR_INTRO.rstrip()]
    for topic in topics:
        expr.append(f"### {topic}")
        expr += [render_example(e) for e in EXPR_EXAMPLES if e.topic == topic]
    return "\n\n".join([GENERATED, INTRO.rstrip(), "## Named transforms", toc, *body, *expr]) + "\n"
