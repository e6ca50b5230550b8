"""The trading-partner YAML (`config/partners/*.yaml`) as pydantic models.

A partner file says who the partner is on the wire (ISA and GS identifiers both ways),
how we write to them (version, delimiters, usage indicator), which transaction sets flow
each way and what handles them, extra requirements of their guide as plain data, where
the files travel (an SFTP connection named by `conn_id`, folders) and how acknowledgements
work. Every block forbids unknown keys: a typo is an error naming the file and line,
never a setting silently ignored. Secrets are refused wherever they are written (the
same rule as sources): host, login and key live in the Airflow connection.

Loading, the broken-file isolation and partner look-up are `omshub.edi.partners`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from connectors.config import refuse_inline_secrets
from omshub.schedule import Schedule

#: GS01 (functional identifier code) of the transaction sets partners commonly exchange;
#: a set not listed here cannot be configured (a wrong GS01 makes partners reject groups)
FUNCTIONAL_IDS: dict[str, str] = {
    "180": "AN",  # return merchandise authorization and notification
    "204": "SM",  # motor carrier load tender
    "210": "IM",  # motor carrier freight details and invoice
    "214": "QM",  # transportation carrier shipment status
    "753": "RF",  # request for routing instructions
    "754": "RG",  # routing instructions
    "810": "IN",  # invoice
    "812": "CD",  # credit/debit adjustment
    "816": "OG",  # organizational relationships
    "820": "RA",  # payment order / remittance advice
    "824": "AG",  # application advice
    "830": "PS",  # planning schedule
    "832": "SC",  # price/sales catalog
    "846": "IB",  # inventory inquiry/advice
    "850": "PO",  # purchase order
    "852": "PD",  # product activity data
    "855": "PR",  # purchase order acknowledgment
    "856": "SH",  # ship notice/manifest
    "860": "PC",  # purchase order change (buyer initiated)
    "865": "CA",  # purchase order change acknowledgment
    "870": "RS",  # order status report
    "875": "OG",  # grocery purchase order
    "880": "GP",  # grocery invoice
    "940": "OW",  # warehouse shipping order
    "943": "AR",  # warehouse stock transfer shipment advice
    "944": "RE",  # warehouse stock transfer receipt advice
    "945": "SW",  # warehouse shipping advice
    "947": "AW",  # warehouse inventory adjustment advice
    "990": "GF",  # response to a load tender
    "997": "FA",  # functional acknowledgment
    "999": "FA",  # implementation acknowledgment
}

_NAME = r"^[a-z][a-z0-9_]{1,62}$"
#: a requirement of the partner's guide: a segment (`TD5`), an element (`ST03`), or a
#: segment with a qualifier value in its first element (`REF*IA`, `N1*ST`)
_REQUIREMENT = re.compile(r"^[A-Z][A-Z0-9]{1,2}(\d{2}|\*[A-Z0-9]{1,3})?$")
#: characters an ISA may not use as a delimiter: they occur in the data itself
_DATA_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ")

Strict = ConfigDict(extra="forbid", frozen=True)


def _str_keys(value: Any) -> Any:
    """Set ids as text: `850:` unquoted in YAML is a number, and means the set 850."""
    if isinstance(value, dict):
        return {str(k) if isinstance(k, int) else k: v for k, v in value.items()}
    return value


class Identity(BaseModel):
    """One side's identifiers: ISA05/06 (or 07/08) and its GS02 (or GS03) code."""

    model_config = Strict
    qualifier: str = Field(description="ISA05/07: 01 DUNS, 08 UCC, 12 phone, ZZ mutual")
    id: str = Field(description="ISA06/08 without its padding (1-15 characters)")
    application_code: str = Field(description="GS02 (as sender) / GS03 (as receiver), 2-15")
    vendor_number: str | None = Field(
        None,
        min_length=1,
        max_length=30,
        description="our number in the partner's books (REF*IA); only under `us`",
    )

    @field_validator("qualifier", "id", "application_code", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        if isinstance(v, int | float) and not isinstance(v, bool):
            raise ValueError(f'write it in quotes: YAML reads {v!r} as a number ("01" is not 1)')
        return v

    @field_validator("qualifier")
    @classmethod
    def _qualifier(cls, v: str) -> str:
        if not re.fullmatch(r"[0-9A-Z]{2}", v):
            raise ValueError(f"{v!r} is not an ID qualifier: two digits or capitals (01, ZZ)")
        return v

    @field_validator("id", "application_code")
    @classmethod
    def _identifier(cls, v: str, info: ValidationInfo) -> str:
        shortest = 1 if info.field_name == "id" else 2
        if not shortest <= len(v) <= 15 or not v.isprintable() or not v.isascii():
            raise ValueError(f"{v!r}: {shortest}-15 printable ASCII characters")
        if v != v.strip():
            raise ValueError(f"{v!r}: spaces around it are padding: write the value without them")
        return v


class Delimiters(BaseModel):
    """The separators we write in our ISA (an inbound file declares its own)."""

    model_config = Strict
    element: str = Field("*", min_length=1, max_length=1)
    sub_element: str = Field(">", min_length=1, max_length=1, description="ISA16")
    segment: str = Field("~", min_length=1, max_length=1)
    repetition: str | None = Field(
        None, min_length=1, max_length=1, description="ISA11, only for ISA12 00402 and later"
    )
    suffix: Literal["", "\n", "\r\n"] = Field(
        "", description="written after each segment terminator (a line break for people)"
    )

    @model_validator(mode="after")
    def _distinct(self) -> Delimiters:
        used = [self.element, self.sub_element, self.segment]
        used += [self.repetition] if self.repetition else []
        if len(set(used)) != len(used):
            raise ValueError(f"delimiters must all differ: {' '.join(map(repr, used))}")
        data = [c for c in used if c in _DATA_CHARS]
        if data:
            raise ValueError(
                f"{data[0]!r} cannot be a delimiter: letters, digits and space are data"
            )
        return self


class Outbound(BaseModel):
    """How we write to this partner, and which sets we send (set id -> generator name)."""

    model_config = Strict
    isa_version: str = Field(pattern=r"^\d{5}$", description="ISA12, e.g. 00401")
    gs_version: str = Field(
        pattern=r"^\d{6}[A-Z0-9]{0,6}$", description="GS08, e.g. 004010 or 004010VICS"
    )
    delimiters: Delimiters = Delimiters()
    sets: dict[str, str] = Field(default_factory=dict, description="set id -> generator name")

    _set_ids = field_validator("sets", mode="before")(_str_keys)

    @model_validator(mode="after")
    def _versions_agree(self) -> Outbound:
        if self.gs_version[:5] != self.isa_version:
            raise ValueError(
                f"gs_version: {self.gs_version} is not of isa_version {self.isa_version}"
                f" (GS08 starts with ISA12, e.g. {self.isa_version}0)"
            )
        wants_rep = self.isa_version >= "00402"
        if not wants_rep and self.delimiters.repetition is not None:
            raise ValueError(
                f"delimiters.repetition: ISA12 {self.isa_version} has no repetition separator"
                " (ISA11 is the standards identifier `U` before 00402)"
            )
        if wants_rep and self.delimiters.repetition is None:
            raise ValueError(f"delimiters.repetition: required for ISA12 {self.isa_version}")
        return self


class Inbound(BaseModel):
    """Which sets the partner sends us: set id -> mapping name (none: kept, not mapped)."""

    model_config = Strict
    sets: dict[str, str | None] = Field(default_factory=dict)

    _set_ids = field_validator("sets", mode="before")(_str_keys)


class Transport(BaseModel):
    """Where files travel: the partner's SFTP server (a folder on this machine for local
    runs and demos) and the partner's folders on it."""

    model_config = Strict
    type: Literal["sftp", "local_folder"] = Field("sftp", description="sftp, or local_folder")
    conn_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_.-]{1,250}$",
        description="Airflow connection (or AIRFLOW_CONN_<ID>) holding host, login and key",
    )
    inbox: str = Field(min_length=1, description="folder the partner drops files into")
    outbox: str = Field(min_length=1, description="folder we write files to")
    archive: str = Field(min_length=1, description="inbound files go here once loaded")
    error: str = Field(min_length=1, description="inbound files that cannot be loaded")
    pattern: str = Field("*", min_length=1, description="which inbox files to read (a glob)")

    @model_validator(mode="after")
    def _where(self) -> Transport:
        if self.type == "sftp" and self.conn_id is None:
            raise ValueError("conn_id: required for sftp (the connection holding host and key)")
        folders = [self.inbox, self.outbox, self.archive, self.error]
        if len({f.rstrip("/") for f in folders}) != 4:
            raise ValueError("inbox, outbox, archive and error must be four different folders")
        return self


class Ack(BaseModel):
    """Acknowledgements: what we expect from the partner and what we send back."""

    model_config = Strict
    expect_997_hours: float | None = Field(
        24, gt=0, description="a 997 is due this long after we send; none: no 997 expected"
    )
    send_997: bool = Field(True, description="answer every inbound group with a 997")
    ta1: Literal["on_request", "always", "never"] = Field(
        "on_request", description="TA1 interchange acknowledgment: when ISA14 asks, always, never"
    )


def _check_set_ids(sets: dict[str, Any], where: str) -> None:
    for set_id in sets:
        if set_id in ("997", "999"):
            raise ValueError(f"{where}.{set_id}: acknowledgements are configured under `ack:`")
        if set_id not in FUNCTIONAL_IDS:
            known = ", ".join(k for k in FUNCTIONAL_IDS if k not in ("997", "999"))
            raise ValueError(f"{where}.{set_id}: unknown transaction set (known: {known})")


class PartnerConfig(BaseModel):
    """One trading partner (`config/partners/<id>.yaml`)."""

    model_config = Strict
    id: str = Field(pattern=_NAME, description="the partner's name in the store and the CLI")
    name: str = Field(min_length=1, description="display name")
    usage: Literal["T", "P"] = Field(description="ISA15 we write and expect: T test, P production")
    us: Identity = Field(description="our identifiers with this partner")
    them: Identity = Field(description="the partner's identifiers")
    outbound: Outbound
    inbound: Inbound = Inbound()
    order_origin: str | None = Field(
        None,
        pattern=_NAME,
        description="the system whose order numbers the partner's documents quote (a "
        "drop-ship supplier's 855/856/810 quote the retailer's POs); none: the partner's own",
    )
    default_location: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="the location code of the partner's documents that name none (a 3PL's"
        " 846 for its one warehouse without an N1 WH)",
    )
    required: dict[str, list[str]] = Field(
        default_factory=dict,
        description="set id -> what the partner's guide requires beyond the standard",
    )
    transport: Transport
    ack: Ack = Ack()
    schedule: Schedule | None = Field(
        None, description="when the inbox is read (cron or preset); none: every 15 minutes"
    )
    file: str = ""

    _set_ids = field_validator("required", mode="before")(_str_keys)

    @model_validator(mode="before")
    @classmethod
    def _no_inline_secret(cls, data: Any) -> Any:
        return refuse_inline_secrets(data)

    @model_validator(mode="after")
    def _sets(self) -> PartnerConfig:
        _check_set_ids(self.inbound.sets, "inbound.sets")
        _check_set_ids(self.outbound.sets, "outbound.sets")
        for set_id, items in self.required.items():
            if set_id not in self.inbound.sets and set_id not in self.outbound.sets:
                raise ValueError(f"required.{set_id}: not a set this partner sends or receives")
            bad = [i for i in items if not _REQUIREMENT.match(i)]
            if bad:
                raise ValueError(
                    f"required.{set_id}: {bad[0]!r} is not a segment (TD5), an element (ST03)"
                    " or a qualified segment (REF*IA)"
                )
        return self

    @model_validator(mode="after")
    def _ids_clear_of_delimiters(self) -> PartnerConfig:
        d = self.outbound.delimiters
        used = {d.element, d.sub_element, d.segment, d.repetition or ""} - {""}
        for side in ("us", "them"):
            ident: Identity = getattr(self, side)
            for key in ("id", "application_code"):
                clash = used & set(getattr(ident, key))
                if clash:
                    raise ValueError(
                        f"{side}.{key}: holds {clash.pop()!r}, one of outbound.delimiters"
                    )
        return self

    def orders_of(self) -> str:
        """Whose orders the PO numbers in this partner's documents are (`order_origin`):
        a retailer quotes its own (its 850s load under its id, the inbox's system), a
        supplier the retailer's it ships for. Never one fixed system: two retailers'
        PO 1001 are two orders."""
        return self.order_origin or self.id

    def functional_id(self, set_id: str) -> str:
        """GS01 of a set (`850` -> `PO`)."""
        return FUNCTIONAL_IDS[set_id]

    def receives(self, set_id: str) -> bool:
        """Do we send this set to the partner (a 997 when `ack.send_997`)?"""
        return set_id in self.outbound.sets or (set_id == "997" and self.ack.send_997)

    def sends(self, set_id: str) -> bool:
        """Does the partner send us this set (a 997 when we expect one)?"""
        return set_id in self.inbound.sets or (
            set_id == "997" and self.ack.expect_997_hours is not None
        )
