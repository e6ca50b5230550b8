"""XML documents, parsed safely, with each record element read as a nested dict.

The parser never expands entities, never loads a DTD and never touches the network
(XXE and billion-laughs safe). Namespaces are dropped to local names so paths stay short
(`E1EDK01.BELNR`, `Body.getResponse.record.email`). In the dict form an element's
attributes are `@name`, its text is `#text` when it also has children or attributes, and
repeated child elements become lists.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any, BinaryIO, ClassVar

from lxml import etree

from connectors.errors import FormatError
from connectors.formats.common import checked, read_all, seekable


@lru_cache(maxsize=4096)
def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else str(tag)


def element_to_dict(el: Any) -> Any:
    children = [c for c in el if isinstance(c.tag, str)]
    attrs = {f"@{_local(k)}": v for k, v in el.attrib.items()}
    text = (el.text or "").strip()
    if not children and not attrs:
        return text or None
    out: dict[str, Any] = dict(attrs)
    for c in children:
        key = _local(c.tag)
        value = element_to_dict(c)
        if key in out:
            prev = out[key]
            out[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            out[key] = value
    if text:
        out["#text"] = text
    return out


def safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
    )


class XmlFormat:
    """Options: `record_tag` (local name of the record element, anywhere in the tree).

    With `record_tag` the file is streamed (iterparse): each record element is turned into
    a dict when it closes and then cleared, so memory stays bounded by one record. Without
    it the whole document is one record.
    """

    kind: ClassVar[str] = "xml"

    def records(self, stream: BinaryIO, options: dict[str, Any], name: str = "") -> Iterator[Any]:
        stream = seekable(stream)
        if _is_blank(stream):
            return  # an empty file: zero records
        tag = options.get("record_tag")
        # only record elements raise events (any namespace); without a tag, only the root
        events = etree.iterparse(
            stream, events=("start", "end"), tag=f"{{*}}{tag}" if tag else None, **_SAFE
        )
        open_records = 0  # record elements open around the current position
        index = 0
        try:
            for event, el in events:
                if index == 0 and open_records == 0:
                    _refuse_inline_dtd(el, name)  # the DOCTYPE is read before any element
                if event == "start":
                    open_records += 1
                    continue
                open_records -= 1
                if tag and open_records:
                    continue  # a nested record: yielded with its outermost one
                if not tag and el.getparent() is not None:
                    continue  # no record tag: the whole document is the one record
                # document order, as root.iter() gives it: the outer record first
                found = [el] if not tag else [e for e in el.iter() if _local(e.tag) == tag]
                for rec in found:
                    yield checked(element_to_dict(rec), rec.sourceline, index)
                    index += 1
                _release(el)
            if index == 0 and events.root is not None:
                _refuse_inline_dtd(events.root, name)
        except etree.XMLSyntaxError as e:
            raise FormatError(f"invalid XML: {e.msg}", name=name, line=e.lineno) from e

    def read(self, content: bytes, options: dict[str, Any], name: str = "") -> list[Any]:
        return read_all(self.records, content, options, name)


_SAFE: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
}


def _refuse_inline_dtd(el: Any, name: str) -> None:
    """A bare DOCTYPE naming an external DTD (every cXML document has one) is fine: it is
    never fetched. An internal subset is where entity bombs and XXE live: refused."""
    dtd = el.getroottree().docinfo.internalDTD
    if dtd is not None and (list(dtd.entities()) or list(dtd.elements())):
        raise FormatError(
            "inline DTD declarations are refused (entity expansion risk)", name=name, line=1
        )


def _release(el: Any) -> None:
    """Free a record once yielded: clear it and drop the siblings already read before it."""
    el.clear(keep_tail=True)
    parent = el.getparent()
    while parent is not None and el.getprevious() is not None:
        del parent[0]


def _is_blank(stream: BinaryIO) -> bool:
    start = stream.tell()
    head = stream.read(4096)
    stream.seek(start)
    return not head.replace(b"\xef\xbb\xbf", b"").strip()
