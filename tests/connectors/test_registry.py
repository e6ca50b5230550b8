"""The transport registry: a real plugin package installed from tests/connectors/plugin_pkg
through its `omshub.transports` entry points, broken plugins left out with a reason,
and the protocol checks a plugin class must pass."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest
from pydantic import BaseModel

from connectors import registry
from connectors.base import RawBatch, StreamRequest, TransportContext
from connectors.config import StreamOptions, TransportConfig
from connectors.errors import ConnectorConfigError
from oms.errors import ConfigError

PLUGIN = Path(__file__).resolve().parent / "plugin_pkg"
BIN = Path(sys.executable).parent
BROKEN = {
    "acme_wrong_kind": "its `kind` is 'acme_ftp', the entry point is named 'acme_wrong_kind'",
    "acme_bad_config": "`Config` must be a subclass of connectors.config.TransportConfig",
    "acme_no_sdk": "does not load: ModuleNotFoundError: No module named 'acme_vendor_sdk'",
    "local_folder": "'local_folder' is already a transport",
}


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin package installed into a folder of its own, as `pip install --target`
    would: built from its pyproject.toml by uv's own `uv_build` backend, so offline."""
    target = tmp_path_factory.mktemp("plugin-site")
    uv = BIN / "uv"
    assert uv.exists(), f"{uv} missing: `make install` puts uv in the venv"
    cmd = [str(uv), "pip", "install", "--offline", "--no-config", "--no-cache", "--no-deps"]
    cmd += ["--python", sys.executable, "--target", str(target), str(PLUGIN)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=target, timeout=120)
    assert done.returncode == 0, done.stderr
    assert list(target.glob("omshub_acme-1.0.0.dist-info/entry_points.txt"))
    return target


@pytest.fixture
def installed(plugin_site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The plugin on sys.path for this test only (entry points are read from sys.path)."""
    monkeypatch.syspath_prepend(str(plugin_site))
    registry.clear()
    yield plugin_site
    for name in [m for m in sys.modules if m.split(".")[0] == "omshub_acme"]:
        del sys.modules[name]
    monkeypatch.undo()
    registry.clear()


def test_the_plugin_is_a_transport_and_the_broken_ones_are_left_out(
    installed: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kinds = registry.transports()
    assert kinds["acme_ftp"].__module__ == "omshub_acme"
    assert kinds["acme_ftp"].parse_cursor("orders_0007.json") == "orders_0007.json"
    with pytest.raises(ValueError, match="expected a file name"):
        kinds["acme_ftp"].parse_cursor("../x")
    assert kinds["local_folder"].__module__ == "connectors.local"  # not shadowed
    errors = registry.plugin_errors()
    assert set(errors) == set(BROKEN)
    for name, why in BROKEN.items():
        assert why in errors[name], errors[name]
        assert name == "local_folder" or name not in kinds
    # each refusal is logged once, when the registry loads
    caplog.clear()
    registry.clear()
    registry.transports()
    assert sum("left out" in r.getMessage() for r in caplog.records) == len(BROKEN)


def test_format_plugins_are_checked_the_same_way(installed: Path) -> None:
    assert registry.get_format("acme_psv").read(b"id|number\n1|A1\n", {}) == [
        {"id": "1", "number": "A1"}
    ]
    assert type(registry.get_format("csv")).__module__ == "connectors.formats.csv"
    assert set(registry.format_errors()) == {"acme_fixed_width", "csv"}
    assert "'csv' is already a format" in registry.format_errors()["csv"]
    with pytest.raises(ConnectorConfigError, match="format 'acme_fixed_width' is a broken plugin"):
        registry.get_format("acme_fixed_width")
    with pytest.raises(
        ConnectorConfigError, match="unknown format 'edifact' \\(known: acme_psv, csv"
    ):
        registry.get_format("edifact")


def test_a_source_asking_for_a_broken_plugin_gets_its_error(installed: Path) -> None:
    with pytest.raises(ConnectorConfigError) as e:
        registry.transport_class("acme_no_sdk")
    assert str(e.value).startswith("connector type 'acme_no_sdk' is a broken plugin: entry point")
    assert "No module named 'acme_vendor_sdk'" in str(e.value)
    with pytest.raises(ConnectorConfigError, match="unknown connector type 'ftp' \\(known: "):
        registry.transport_class("ftp")
    with pytest.raises(ConnectorConfigError) as unknown:
        registry.transport_class("ftp")
    known = str(unknown.value)
    assert "acme_ftp" in known and "local_folder" in known and "acme_bad_config" not in known


def test_the_plugin_config_is_validated_like_a_builtin(installed: Path, tmp_path: Path) -> None:
    adapter = registry.connector_adapter()
    cfg = adapter.validate_python({"type": "acme_ftp", "root": "ftp", "conn_id": "acme"})
    assert type(cfg).__name__ == "AcmeFtpConfig"
    local = adapter.validate_python({"type": "local_folder", "path": "drop"})
    assert local.type == "local_folder"
    with pytest.raises(ConnectorConfigError, match=r"acme_ftp: rooot: Extra inputs"):
        registry.transport("acme_ftp", {"root": "x", "rooot": "y"})
    with pytest.raises(ConnectorConfigError, match="secret written inline"):
        registry.transport("acme_ftp", {"root": "x", "password": "hunter2"})
    with pytest.raises(ConnectorConfigError, match="needs `conn_id`"):
        registry.transport("acme_ftp", {"root": "x"})


def test_without_the_plugin_the_builtins_are_all_there() -> None:
    registry.clear()
    assert "acme_ftp" not in registry.transports()
    assert registry.transports()["local_folder"].kind == "local_folder"
    assert not registry.plugin_errors()


def write_project(home: Path) -> None:
    """The tiny shop project of tests/projects.py plus a source of the plugin's type, and
    one asking for a broken plugin."""
    from projects import write_source

    write_source(home, incremental=True)
    (home / "config/sources/acme.yaml").write_text(
        textwrap.dedent("""\
        name: acme
        system: acme
        kind: channel
        connector: {type: acme_ftp, root: ftp, conn_id: acme_ftp}
        retries: 0
        streams:
          - name: orders
            pattern: "orders_*.json"
            format: {type: json, records_path: orders}
            mapping: shop/orders.yaml
        """)
    )
    (home / "config/sources/legacy.yaml").write_text(
        (home / "config/sources/acme.yaml")
        .read_text()
        .replace("name: acme", "name: legacy")
        .replace("type: acme_ftp", "type: acme_no_sdk")
    )


def put(home: Path, name: str, *ids: int) -> None:
    outbox = home / "ftp/northwind/outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    orders = [{"id": i, "number": f"A{i}", "status": "paid", "total": "9.5"} for i in ids]
    (outbox / name).write_text(json.dumps({"orders": orders}))


def omshub(*args: str, site: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site), "AIRFLOW_CONN_ACME_FTP": "ftp://northwind@ftp"}
    return subprocess.run(
        [str(BIN / "omshub"), *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_a_source_of_the_plugin_type_runs_end_to_end(
    installed: Path, sqlite_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The installed plugin, found by its entry point in a fresh process (the CLI),
    extracts, lands and loads; a broken plugin's source is one clear error naming the file
    and line, and the other sources still run. Then (in this process, with the plugin on
    sys.path) its own cursor makes the next run fetch only the new file."""
    from sqlalchemy import create_engine, func, select

    from oms.models import LandedBatch, SalesOrder, Watermark, table
    from omshub.config import _load_sources
    from omshub.pipeline import run_source

    home = tmp_path / "proj"
    write_project(home)
    monkeypatch.setenv("OMSHUB_HOME", str(home))
    monkeypatch.setenv("OMSHUB_LOG_DIR", str(tmp_path / "logs"))
    put(home, "orders_0001.json", 1, 2)
    put(home, "orders_0002.json", 3)

    first = omshub("run", site=installed)  # every source: the broken one fails alone
    output = " ".join((first.stdout + first.stderr).split())
    assert first.returncode == 1, output
    assert "acme: success" in output and "shop: success" in output
    assert "legacy: failed" in output
    assert "legacy.yaml:4 connector: connector type 'acme_no_sdk' is a broken plugin" in output
    assert "No module named 'acme_vendor_sdk'" in output and "Traceback" not in output

    so, wm, lb = table(SalesOrder), table(Watermark), table(LandedBatch)
    engine = create_engine(sqlite_store)

    def state() -> tuple[Any, ...]:
        with engine.connect() as conn:
            return (
                conn.execute(select(func.count()).select_from(so)).scalar(),
                conn.execute(select(func.count()).select_from(lb)).scalar(),
                conn.execute(select(wm.c.cursor_value).where(wm.c.source == "acme")).scalar(),
            )

    assert state() == (3, 2, "orders_0002.json")
    monkeypatch.setenv("AIRFLOW_CONN_ACME_FTP", "ftp://northwind@ftp")
    try:
        put(home, "orders_0003.json", 4)
        assert run_source("acme").ok
        assert state() == (4, 3, "orders_0003.json")
        assert run_source("acme").ok  # nothing new: nothing fetched, nothing landed
        assert state() == (4, 3, "orders_0003.json")
    finally:
        _load_sources.cache_clear()
        engine.dispose()


# -- the checks a transport class must pass (register_transport: in-process plugins) --


class _Cfg(TransportConfig):
    type: Literal["tiny"] = "tiny"


class Tiny:
    kind: ClassVar[str] = "tiny"
    Config: ClassVar[type[TransportConfig]] = _Cfg
    Stream: ClassVar[type[StreamOptions]] = StreamOptions

    def __init__(self, config: Any, context: TransportContext) -> None:
        self.config = config

    def fetch(self, request: StreamRequest) -> Iterator[RawBatch]:
        yield RawBatch(b"[]", "tiny.json", request.format)


class _Untyped(TransportConfig):
    pass


def variant(**attrs: Any) -> type:
    return type("Variant", (Tiny,), attrs)


@pytest.mark.parametrize(
    ("cls", "why"),
    [
        (Tiny(_Cfg(), TransportContext("s", Path("."))), "is not a class"),
        (variant(kind="other"), "its `kind` is 'other', the entry point is named 'tiny'"),
        (variant(Config=type("C", (BaseModel,), {})), "`Config` must be a subclass"),
        (variant(Config=_Untyped), "`Config.type` must be Literal['tiny']"),
        (variant(Stream=dict), "`Stream` must be a subclass of connectors.config.StreamOptions"),
        (variant(fetch=None), "it has no `fetch(request)` method"),
    ],
)
def test_check_transport_says_what_is_wrong(cls: Any, why: str) -> None:
    assert why in (registry.check_transport(cls, "tiny") or "")


def test_register_transport_in_process() -> None:
    assert registry.check_transport(Tiny, "tiny") is None
    with pytest.raises(ConfigError, match="is not a transport: `Stream` must be"):
        registry.register_transport(variant(Stream=dict))
    try:
        registry.register_transport(Tiny)
        cfg = registry.connector_adapter().validate_python({"type": "tiny"})
        tr = registry.build_transport(cfg, TransportContext("s", Path(".")))
        batches = list(tr.fetch(StreamRequest("orders", "json", {})))
        assert [b.name for b in batches] == ["tiny.json"]
    finally:
        registry.clear()
    assert "tiny" not in registry.transports()
