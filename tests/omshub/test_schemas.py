"""The JSON Schemas in schemas/ are current, accept every shipped YAML, and are named by
each file's `yaml-language-server` modeline (what gives editors completion)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from omshub.schemas import SCHEMAS, TARGETS, render, write_all
from transforms.yamlsrc import load_yaml

ROOT = Path(__file__).resolve().parents[2]
MODELINE = "# yaml-language-server: $schema="
FILES = [
    (name, path)
    for name, globs in TARGETS.items()
    for glob in globs
    for path in sorted(ROOT.glob(glob))
]


def as_editor_reads(value: Any) -> Any:
    """YAML as a YAML language server validates it: keys are text (`850:` is "850")."""
    if isinstance(value, dict):
        return {str(k): as_editor_reads(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_editor_reads(v) for v in value]
    return value


@cache
def validator(name: str) -> Draft202012Validator:
    schema = json.loads((ROOT / "schemas" / name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_written_schemas_are_current() -> None:
    # in a fresh interpreter: other tests register transports and transforms of their own
    code = "import sys\nfrom pathlib import Path\nfrom omshub.schemas import stale\n"
    code += "print(','.join(stale(Path(sys.argv[1]))))"
    done = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "schemas")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=True,
    )
    assert not done.stdout.strip(), (
        f"schemas/ is stale ({done.stdout.strip()}): run `omshub mapping schema --write`"
    )


def test_write_all_writes_what_render_gives(tmp_path: Path) -> None:
    written = write_all(tmp_path)
    assert sorted(p.name for p in written) == sorted(SCHEMAS)
    assert (tmp_path / "source.schema.json").read_text() == render(SCHEMAS["source.schema.json"]())


def test_there_are_files_of_every_kind() -> None:
    assert {name for name, _ in FILES} == set(SCHEMAS) and len(FILES) > 30


@pytest.mark.parametrize("name,path", FILES, ids=lambda x: getattr(x, "name", x))
def test_every_shipped_yaml_validates_against_its_schema(name: str, path: Path) -> None:
    data, _ = load_yaml(path)
    errors = [
        f"{e.json_path}: {e.message}" for e in validator(name).iter_errors(as_editor_reads(data))
    ]
    assert not errors, f"{path.relative_to(ROOT)}:\n" + "\n".join(errors)


@pytest.mark.parametrize("name,path", FILES, ids=lambda x: getattr(x, "name", x))
def test_every_shipped_yaml_names_its_schema(name: str, path: Path) -> None:
    first = path.read_text().splitlines()[0]
    assert first.startswith(MODELINE), f"{path}: first line is not the modeline"
    target = (path.parent / first.removeprefix(MODELINE)).resolve()
    assert target == ROOT / "schemas" / name
    assert first.removeprefix(MODELINE) == os.path.relpath(target, path.parent)


def errors_of(name: str, data: dict[str, Any]) -> str:
    return "\n".join(f"{e.json_path}: {e.message}" for e in validator(name).iter_errors(data))


def test_the_mapping_schema_knows_entities_columns_transforms_and_codes() -> None:
    data, _ = load_yaml(ROOT / "mappings/shopify/orders.yaml")
    wrong = copy.deepcopy(data)
    wrong["entity"] = "sales_ordr"
    assert "$.entity: 'sales_ordr' is not one of" in errors_of("mapping.schema.json", wrong)
    wrong = copy.deepcopy(data)
    wrong["children"][0]["fields"]["qty"] = "x"
    assert "$.children[0].fields: 'qty' is not one of" in errors_of("mapping.schema.json", wrong)
    for key, value in (("transforms", ["stripp"]), ("code", "no_such_list")):
        wrong = copy.deepcopy(data)
        wrong["fields"]["order_number"][key] = value
        assert "$.fields.order_number" in errors_of("mapping.schema.json", wrong)
    schema = json.loads((ROOT / "schemas/mapping.schema.json").read_text())
    field = schema["$defs"]["FieldSpec"]["properties"]
    names = {c["const"] for c in field["transforms"]["items"]["anyOf"][0]["anyOf"]}
    assert {"strip", "zfill", "cents"} <= names
    assert "carrier" in field["code"]["anyOf"][0]["enum"]


def test_the_source_schema_knows_transports_options_and_schedules() -> None:
    data, _ = load_yaml(ROOT / "config/sources/salesforce_crm.yaml")
    for path, value in (
        (("connector", "type"), "ftp"),
        (("connector", "auth", "type"), "oauth3"),
        (("schedule",), "@hourli"),
        (("streams", 0, "options", "pathh"), "/x"),
    ):
        wrong: Any = copy.deepcopy(data)
        node = wrong
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value
        assert errors_of("source.schema.json", wrong), path


def test_the_ownership_schema_knows_entities_columns_and_kinds(tmp_path: Path) -> None:
    """What `Ownership.load` refuses, the schema refuses: an entity or a column the store
    does not have, owners that are not names; both accept one owner written alone."""
    import yaml

    from oms.errors import ConfigError
    from oms.ownership import Ownership

    def load(data: dict[str, Any]) -> Ownership:
        path = tmp_path / "ownership.yaml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        return Ownership.load(path)

    good = {"sales_order": {"grand_total": ["erp", "shopify"], "status": "wms"}}
    assert errors_of("ownership.schema.json", good) == ""
    assert load(good).owned_fields("sales_order")["status"] == ("wms",)
    for bad, why in (
        ({"sales_ordr": {"status": ["wms"]}}, "sales_ordr"),
        ({"sales_order": {"totl": ["erp"]}}, "totl"),
        ({"sales_order": {"status": [3]}}, "status"),
    ):
        assert why in errors_of("ownership.schema.json", bad), bad
        with pytest.raises(ConfigError, match=why):
            load(bad)
    kinds = json.dumps(validator("ownership.schema.json").schema["$defs"]["Owner"])
    assert '"3pl"' in kinds and '"erp"' in kinds
