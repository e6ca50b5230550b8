"""One bad source YAML or code-list file never stops the other sources."""

from __future__ import annotations

from pathlib import Path

import pytest
from projects import drop, shop_order, use_project
from sqlalchemy import Engine, select

from oms.errors import ConfigError
from oms.models import SalesOrder
from omshub import pipeline
from omshub.config import broken_sources, get_source, sources
from omshub.mappings import get_mapping


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_store: str) -> Path:
    return use_project(tmp_path, monkeypatch)


def test_a_broken_source_file_is_reported_and_the_others_still_run(
    project: Path, sqlite_store: str
) -> None:
    from oms.db import get_engine

    (project / "config/sources/erp.yaml").write_text("name: erp\nsystem: erp\nkind: mainframe\n")
    assert sorted(sources()) == ["shop"]
    assert list(broken_sources()) == ["erp"]
    with pytest.raises(ConfigError, match=r"erp.yaml:3 kind: Input should be"):
        get_source("erp")
    drop(project, "a.json", [shop_order(1, "A1")])
    engine: Engine = get_engine(sqlite_store)
    assert pipeline.run_source("shop", engine=engine).ok
    with engine.connect() as conn:
        assert list(conn.execute(select(SalesOrder.__table__.c.order_number)).scalars()) == ["A1"]


def test_a_broken_code_list_breaks_only_the_mappings_that_use_it(project: Path) -> None:
    codes = project / "config/codes"
    (codes / "warehouse_codes.yaml").write_text("name: warehouse_codes\ncodes: [a, b]\n")
    assert get_mapping("shop/orders.yaml").name == "shop.orders"  # does not use it
    user = project / "mappings/shop/locations.yaml"
    user.write_text(
        "mapping: shop.locations\nversion: 1\nentity: location\nexternal_id: id\n"
        "fields:\n  code: {path: code, code: warehouse_codes}\n"
    )
    with pytest.raises(ConfigError, match=r"warehouse_codes.yaml:2 field 'codes'"):
        get_mapping(str(user))
