"""XML documents, parsed safely, with each record element read as a nested dict.

The parser never expands entities, never loads a DTD and never touches the network
(XXE and billion-laughs safe). Namespaces are dropped to local names so paths stay short
(`E1EDK01.BELNR`, `Body.getResponse.record.email`). In the dict form an element's
attributes are `@name`, its text is `#text` when it also has children or attributes, and
repeated child elements become lists.
"""

from __future__ import annotations

from typing import Any, ClassVar

from lxml import etree

from connectors.errors import FormatError


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
    """Options: `record_tag` (local name of the record element, anywhere in the tree)."""

    kind: ClassVar[str] = "xml"

    def read(self, content: bytes, options: dict[str, Any], name: str = "") -> list[Any]:
        try:
            root = etree.fromstring(content, parser=safe_parser())
        except etree.XMLSyntaxError as e:
            raise FormatError(f"invalid XML: {e.msg}", name=name, line=e.lineno) from e
        dtd = root.getroottree().docinfo.internalDTD
        if dtd is not None and (list(dtd.entities()) or list(dtd.elements())):
            # a bare DOCTYPE naming an external DTD (every cXML document has one) is fine: it
            # is never fetched; an internal subset is where entity bombs and XXE live
            raise FormatError(
                "inline DTD declarations are refused (entity expansion risk)", name=name
            )
        tag = options.get("record_tag")
        if not tag:
            return [element_to_dict(root)]
        elements = [el for el in root.iter() if isinstance(el.tag, str) and _local(el.tag) == tag]
        return [element_to_dict(el) for el in elements]
