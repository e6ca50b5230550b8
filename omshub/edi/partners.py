"""Trading partners: load `config/partners/*.yaml`, and tell who sent an interchange.

Loading follows the source configs (`omshub.config`): every file is parsed once per
process, one broken file breaks only its own partner (`broken_partners` says why, with
the file, line and key), and the good ones work. `find_partner` identifies the partner
of an inbound interchange from its ISA sender and receiver, the only identity an X12
file carries before anything in it is trusted.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from connectors.config import InlineSecretError
from oms.errors import ConfigError
from omshub.config import config_dir, load_folder, yaml_path
from omshub.edi.partnerconfig import FUNCTIONAL_IDS, PartnerConfig
from transforms.yamlsrc import col_of, line_of, load_yaml

__all__ = [
    "FUNCTIONAL_IDS",
    "PartnerConfig",
    "PartnerConfigError",
    "UnknownPartner",
    "broken_partners",
    "find_partner",
    "get_partner",
    "load_partner",
    "partners",
]


class PartnerConfigError(ConfigError):
    """A partner file does not validate; the message starts with `file:line key:`."""

    def __init__(
        self,
        file: str,
        message: str,
        line: int | None = None,
        key: str = "",
        column: int | None = None,
    ) -> None:
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where} {key}: {message}" if key else f"{where}: {message}")
        self.file = file
        self.line = line
        self.key = key
        self.column = column
        self.detail = message


class UnknownPartner(ConfigError):
    """No partner (or more than one) has the identifiers an interchange came with."""


def load_partner(path: Path) -> PartnerConfig:
    """One partner file, validated; `PartnerConfigError` names the file, line and key."""
    data, lines = load_yaml(path)  # a MappingError (a ConfigError) names file and line
    if not isinstance(data, dict):
        what = "empty" if data is None else f"a {type(data).__name__}, not a mapping of keys"
        raise PartnerConfigError(str(path), f"the partner file is {what} (id:, name:, us: ...)")
    try:
        return PartnerConfig.model_validate({**data, "file": str(path)})
    except ValidationError as e:
        err = e.errors()[0]
        loc = tuple(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        cause = (err.get("ctx") or {}).get("error")
        named = False
        if isinstance(cause, InlineSecretError):
            loc = (*loc, *cause.keys)  # the secret's own line
        else:
            loc, msg, named = _named_key(data, loc, msg)
        missing = named or err["type"] in ("missing", "extra_forbidden")
        keys = yaml_path(data, loc, keep_last=missing)
        raise PartnerConfigError(
            str(path), msg, line_of(lines, keys), ".".join(map(str, keys)), col_of(lines, keys)
        ) from None


def _named_key(data: Any, loc: tuple[Any, ...], msg: str) -> tuple[tuple[Any, ...], str, bool]:
    """A rule across keys reports at its block; its message starts with the key it is
    about (`required.856: ...`): name that key, and point at its line when it is written
    (a missing one at its block's). The flag says whether the key was taken from `msg`."""
    prefix, _, rest = msg.partition(": ")
    if not rest or not re.fullmatch(r"[a-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*", prefix):
        return loc, msg, False
    node = data
    for k in loc:
        node = node.get(k) if isinstance(node, dict) else None
    if isinstance(node, dict):
        return (*loc, *prefix.split(".")), rest, True
    return loc, msg, False


@cache
def _load(folder: str) -> tuple[dict[str, PartnerConfig], dict[str, ConfigError]]:
    """Every partner that validates, and the error of every file that does not (by stem)."""
    return load_folder(folder, load_partner, lambda cfg: cfg.id, "partner")


def _folder(folder: Path | None) -> str:
    return str(folder or config_dir() / "partners")


def partners(folder: Path | None = None) -> dict[str, PartnerConfig]:
    """The partners whose YAML validates (see `broken_partners` for the others)."""
    return _load(_folder(folder))[0]


def broken_partners(folder: Path | None = None) -> dict[str, ConfigError]:
    """File stem -> why that partner file does not validate."""
    return _load(_folder(folder))[1]


def get_partner(partner_id: str, folder: Path | None = None) -> PartnerConfig:
    """A partner by id; its file's own error when that file is broken."""
    good, broken = _load(_folder(folder))
    if partner_id in good:
        return good[partner_id]
    if partner_id in broken:
        raise broken[partner_id]
    known = ", ".join(sorted(good)) or "none"
    raise UnknownPartner(f"unknown partner {partner_id!r} (known: {known})")


def find_partner(
    sender_qualifier: str,
    sender_id: str,
    receiver_qualifier: str,
    receiver_id: str,
    folder: Path | None = None,
) -> PartnerConfig:
    """The partner an inbound interchange comes from: its ISA05/06 are the partner's
    identifiers and ISA07/08 ours with that partner. Padding is ignored, case is not
    (X12 identifiers are compared as written)."""
    sender = (sender_qualifier.strip(), sender_id.strip())
    receiver = (receiver_qualifier.strip(), receiver_id.strip())
    good, broken = _load(_folder(folder))
    hits = [
        p
        for p in good.values()
        if (p.them.qualifier, p.them.id) == sender and (p.us.qualifier, p.us.id) == receiver
    ]
    if len(hits) == 1:
        return hits[0]
    isa = f"ISA sender {sender[0]}/{sender[1]} receiver {receiver[0]}/{receiver[1]}"
    if hits:
        files = ", ".join(f"{p.id} ({p.file})" for p in hits)
        raise UnknownPartner(f"{isa}: ambiguous, several partners have these ids: {files}")
    hint = f"; broken partner files: {', '.join(sorted(broken))}" if broken else ""
    senders = [p.id for p in good.values() if (p.them.qualifier, p.them.id) == sender]
    if senders:
        hint = f" (sender known as {', '.join(senders)}, but sent to another receiver id){hint}"
    raise UnknownPartner(f"{isa}: no partner has these ids{hint}")
