"""The YAML key pages: mapping files, source files (every built-in transport's keys) and
trading-partner files, each walked out of the pydantic models that validate them."""

from __future__ import annotations

from typing import Any

from omshub.refdocs.keys import Walk
from omshub.refdocs.md import GENERATED, anchor, code


def _page(title: str, intro: str, walk: Walk, level: str = "##") -> str:
    toc = "\n".join(f"- [{s.title}](#{anchor(s.title)})" for s in walk.sections)
    return "\n\n".join([GENERATED, f"# {title}", intro.strip(), toc, walk.render(level)]) + "\n"


def render_mapping() -> str:
    from transforms.codes import CodeListFile
    from transforms.spec import MappingFile

    walk = Walk()
    walk.add(MappingFile, "Mapping file (mappings/**/*.yaml)")
    walk.add(CodeListFile, "Code list file (config/codes/*.yaml)")
    intro = f"""
Every key of a mapping file and of a code list file. A mapping maps one stream of one
system to one canonical entity (and, through `children`, the entities nested in it); the
entities and their columns are in [the canonical model](entities.md), the transforms and
expressions a field may use in [transforms](transforms.md), the language explained with
examples in [the mapping language](../mapping-language.md). A field written as a bare
string (`grand_total: total`) is short for {code("{path: total}")}.
"""
    return _page("Mapping YAML reference", intro, walk)


def _builtin_transports() -> list[Any]:
    from connectors.registry import transports

    return sorted(
        (cls for cls in transports().values() if cls.__module__.startswith("connectors.")),
        key=lambda cls: str(cls.kind),
    )


def _rest_specs(walk: Walk) -> None:
    """The REST transport's `auth:` and `paginator:` keys, per their `type`."""
    from connectors.rest.auth import AUTHENTICATORS
    from connectors.rest.paginate import PAGINATORS

    groups: tuple[tuple[str, dict[str, Any]], ...] = (
        ("rest auth", dict(AUTHENTICATORS)),
        ("rest paginator", dict(PAGINATORS)),
    )
    for label, table in groups:
        for kind, cls in sorted(table.items()):
            if cls.__module__.startswith("connectors."):
                walk.add(cls.Options, f"{label}: {kind}")


def render_source() -> str:
    from connectors.config import TransportConfig
    from connectors.rest.config import Spec
    from omshub.config import SourceConfig

    walk = Walk(names={TransportConfig: "connector (every type)", Spec: "rest auth or paginator"})
    walk.add(SourceConfig, "Source file (config/sources/*.yaml)", skip=frozenset({"file"}))
    for cls in _builtin_transports():
        walk.add(cls.Config, f"connector: {cls.kind}")
        walk.add(cls.Stream, f"stream options: {cls.kind}")
        if cls.kind == "rest":
            _rest_specs(walk)
    kinds = ", ".join(
        f"[{c.kind}](#connector-{c.kind.replace('_', '_')})" for c in _builtin_transports()
    )
    intro = f"""
Every key of a source file. `connector:` takes the keys of its `type` ({kinds}); each
stream's `options:` (and `pattern:`) the keys of that transport's stream options. A
plugin transport documents its own keys. Secrets never go in these files: name an
Airflow connection with `conn_id`. Explained with examples in [adding a
source](../sources.md) and each transport's page under [transports](../transports/).
"""
    return _page("Source YAML reference", intro, walk)


def render_partner() -> str:
    from omshub.edi.partnerconfig import PartnerConfig

    walk = Walk()
    walk.add(PartnerConfig, "Partner file (config/partners/*.yaml)", skip=frozenset({"file"}))
    intro = """
Every key of an EDI trading-partner file: the partner's identifiers, what it sends and
receives, its transport and acknowledgement rules. Explained with examples in
[EDI partners](../edi-partners.md).
"""
    return _page("Partner YAML reference", intro, walk)
