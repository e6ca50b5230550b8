"""Source YAML: the typed `connector:` and stream `options:`, secrets refused wherever they
are written, and every error naming the file, the line and the key."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest
from pydantic import Field

from connectors import registry
from connectors.base import RawBatch, StreamRequest, TransportContext
from connectors.config import StreamOptions, TransportConfig
from connectors.local import LocalFolderConfig, LocalFolderStream
from oms.errors import ConfigError
from omshub.config import broken_sources, load_source, sources

# the config.py change asked for in the seam report (line of the key itself, no crash)
FOLDER = """\
name: shop
system: shop
kind: channel
connector:
  type: local_folder
  path: drop
streams:
  - name: orders
    pattern: "*.json"
    format: {type: json}
    mapping: shop/orders.yaml
"""


class ApiConfig(TransportConfig):
    """An API transport's connector block: where secrets go is configurable, never them."""

    type: Literal["tiny_api"] = "tiny_api"
    base_url: str
    auth: dict[str, Any] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    api_key_header: str = "X-Api-Key"
    password_env: str | None = None


class ApiStream(StreamOptions):
    """No `pattern`: an API reads no files."""

    path: str
    params: dict[str, Any] = Field(default_factory=dict)


class TinyApi:
    kind: ClassVar[str] = "tiny_api"
    Config: ClassVar[type[TransportConfig]] = ApiConfig
    Stream: ClassVar[type[StreamOptions]] = ApiStream

    def __init__(self, config: Any, context: TransportContext) -> None:
        self.config = config

    def fetch(self, request: StreamRequest) -> Iterator[RawBatch]:
        yield RawBatch(b"[]", "p", request.format)


API = """\
name: shop_api
system: shop
kind: channel
connector:
  type: tiny_api
  conn_id: shop_api
  base_url: https://shop.example.com/admin/api
  auth:
    type: oauth2_client_credentials
    token_url: https://shop.example.com/oauth/token
    client_id: omshub
    scopes: [read_orders]
  headers:
    Accept: application/json
streams:
  - name: orders
    format: {type: json, records_path: orders}
    mapping: shop/orders.yaml
    options:
      path: /orders.json
      params:
        status: any
"""


@pytest.fixture(autouse=True)
def tiny_api() -> Iterator[None]:
    registry.register_transport(TinyApi)
    yield
    registry.clear()


def write(tmp_path: Path, text: str, name: str = "source.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error(path: Path) -> str:
    with pytest.raises(ConfigError) as e:
        load_source(path)
    return str(e.value)


def line(text: str, needle: str) -> int:
    """1-based line of the first line of `text` containing `needle`."""
    return next(i for i, s in enumerate(text.splitlines(), 1) if needle in s)


def insert_before(text: str, where: str, insert: str) -> str:
    """`text` with the line `insert` put before the first line containing `where`."""
    at = line(text, where)
    lines = text.splitlines(keepends=True)
    return "".join([*lines[: at - 1], insert, *lines[at - 1 :]])


def test_a_folder_source_is_typed(tmp_path: Path) -> None:
    text = FOLDER.replace(
        '    pattern: "*.json"\n', '    pattern: "*.json"\n    options:\n      settle_seconds: 5\n'
    )
    cfg = load_source(write(tmp_path, text))
    assert isinstance(cfg.connector, LocalFolderConfig) and cfg.connector.path == "drop"
    opts = cfg.stream_options(cfg.stream("orders"))
    assert isinstance(opts, LocalFolderStream)
    assert (opts.pattern, opts.settle_seconds) == ("*.json", 5)


def test_a_plugin_source_is_typed_and_takes_where_secrets_go(tmp_path: Path) -> None:
    text = API.replace(
        "    Accept: application/json\n",
        "    Accept: application/json\n"
        "  api_key_header: X-Shopify-Access-Token\n"
        "  password_env: SHOP_PASSWORD\n",
    ).replace(
        "    client_id: omshub\n",
        "    client_id: omshub\n"
        "    token_type: Bearer\n"
        "    token_expiry_seconds: 3600\n"
        "    private_key_file: /etc/omshub/keys/shop.pem\n"
        "    api_key_param: key\n"
        "    secret_conn_id: shop_vault\n"
        "    verify_token: true\n",
    )
    cfg = load_source(write(tmp_path, text))
    assert isinstance(cfg.connector, ApiConfig)
    assert cfg.connector.auth["token_url"] == "https://shop.example.com/oauth/token"
    assert cfg.connector.api_key_header == "X-Shopify-Access-Token"
    assert cfg.stream_options(cfg.stream("orders")) == ApiStream(
        path="/orders.json", params={"status": "any"}
    )


@pytest.mark.parametrize(
    ("where", "insert", "key"),
    [
        ("  base_url:", "  password: hunter2\n", "password"),
        ("  base_url:", "  token: 12345678\n", "token"),
        ("    client_id:", "    client_secret: s3cr3t\n", "auth.client_secret"),
        ("    client_id:", "    refresh_token: r-t\n", "auth.refresh_token"),
        ("    client_id:", "    api_key: k-123\n", "auth.api_key"),
        ("    client_id:", "    private_key: '-----BEGIN'\n", "auth.private_key"),
        ("    client_id:", "    tokens: [tk-1, tk-2]\n", "auth.tokens"),
        ("    Accept:", "    Authorization: Bearer abc\n", "headers.Authorization"),
        ("    Accept:", "    X-Shopify-Access-Token: shpat_1\n", "headers.X-Shopify-Access-Token"),
        ("        status:", "        api_key: k-1\n", "params.api_key"),
        ("        status:", "        access_token: a-1\n", "params.access_token"),
        ("      path:", "      token: t-1\n", "token"),
    ],
)
def test_a_secret_written_inline_is_refused_at_any_depth(
    tmp_path: Path, where: str, insert: str, key: str
) -> None:
    message = error(write(tmp_path, insert_before(API, where, insert)))
    assert re.match(rf"^{re.escape(str(tmp_path))}/source\.yaml:\d+ ", message), message
    assert f"secret written inline in YAML ({key})" in message
    assert "conn_id" in message and "AIRFLOW_CONN_" in message
    secret = insert.split(":", 1)[1].strip().strip("'[]")
    text = message.removeprefix(str(tmp_path))  # (a tmp dir name may hold "t-1")
    assert secret.split(",")[0] not in text  # the value itself is never repeated


@pytest.mark.parametrize(
    ("where", "insert", "key"),
    [
        ("  base_url:", "  password: hunter2\n", "connector.password"),
        ("    client_id:", "    client_secret: s3cr3t\n", "connector.auth.client_secret"),
        ("        status:", "        api_key: k-1\n", "streams.0.options.params.api_key"),
    ],
)
def test_a_secret_error_points_at_the_secrets_own_line(
    tmp_path: Path, where: str, insert: str, key: str
) -> None:
    message = error(write(tmp_path, insert_before(API, where, insert)))
    at = line(API, where)  # the inserted line's number
    assert message.startswith(f"{tmp_path}/source.yaml:{at} {key}: secret written inline")


CASES = [
    # (name, replace, by, line of, expected message after "file:line ")
    (
        "unknown type",
        "type: local_folder",
        "type: ftp",
        "connector:",
        "connector: unknown connector type 'ftp' (known: ",
    ),
    (
        "unknown key",
        "  path: drop\n",
        "  path: drop\n  pth: x\n",
        "pth:",
        "connector.pth: Extra inputs",
    ),
    (
        "wrong value type",
        "  path: drop\n",
        "  path: drop\n  settle_seconds: soon\n",
        "settle_seconds",
        "connector.settle_seconds: Input should be a valid number",
    ),
    (
        "unknown option",
        '    pattern: "*.json"\n',
        '    pattern: "*.json"\n    options:\n      settle: 3\n',
        "settle:",
        "streams.0.options.settle: Extra inputs are not permitted",
    ),
    (
        "wrong option type",
        '    pattern: "*.json"\n',
        '    pattern: "*.json"\n    options:\n      done_marker: "a/b"\n',
        "done_marker",
        "streams.0.options.done_marker: done_marker must be a file name",
    ),
    (
        "bad conn_id",
        "  path: drop\n",
        "  path: drop\n  conn_id: 'shop api'\n",
        "conn_id",
        "connector.conn_id: String should match pattern",
    ),
    (
        "connector not a mapping",
        "connector:\n  type: local_folder\n  path: drop\n",
        "connector: local_folder\n",
        "connector:",
        "connector: must be a mapping with a `type`",
    ),
    (
        "stream key typo",
        "    mapping:",
        "    patern: x\n    mapping:",
        "patern:",
        "streams.0.patern: Extra inputs",
    ),
    (
        "source value out of range",
        "kind: channel\n",
        "kind: channel\nreject_threshold: 2\n",
        "reject_threshold",
        "reject_threshold: Input should be less than or equal to 1",
    ),
]


@pytest.mark.parametrize(
    ("name", "replace", "by", "at", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_config_errors_name_file_line_and_key(
    tmp_path: Path, name: str, replace: str, by: str, at: str, expected: str
) -> None:
    assert replace in FOLDER
    text = FOLDER.replace(replace, by)
    message = error(write(tmp_path, text)).replace("Value error, ", "")  # see below
    assert message.startswith(f"{tmp_path}/source.yaml:{line(text, at)} {expected}"), message


def test_an_unknown_type_lists_the_known_ones(tmp_path: Path) -> None:
    message = error(write(tmp_path, FOLDER.replace("type: local_folder", "type: ftp")))
    known = message.split("(known: ", 1)[1].rstrip(")").split(", ")
    assert {"local_folder", "tiny_api"} <= set(known)
    assert known == sorted(known)


def test_a_stream_option_of_another_transport_is_refused(tmp_path: Path) -> None:
    text = API.replace(
        "      path: /orders.json\n", "      path: /orders.json\n      settle_seconds: 3\n"
    )
    message = error(write(tmp_path, text))
    assert message.startswith(f"{tmp_path}/source.yaml:{line(text, 'settle_seconds')} ")
    assert "streams.0.options.settle_seconds: Extra inputs are not permitted" in message


def test_pattern_on_a_transport_without_one_is_refused(tmp_path: Path) -> None:
    text = API.replace("    format: {type: json", '    pattern: "*.json"\n    format: {type: json')
    message = error(write(tmp_path, text))
    assert message.startswith(f"{tmp_path}/source.yaml:")
    assert "pattern" in message and "tiny_api" not in sources(tmp_path)
    text = FOLDER.replace('"*.json"', '"../*.json"')  # a transport with a pattern
    message = error(write(tmp_path, text))
    assert message.startswith(f"{tmp_path}/source.yaml:")
    assert "pattern '../*.json' must stay inside the folder" in message


def test_pattern_error_points_at_the_pattern(tmp_path: Path) -> None:
    text = API.replace("    format: {type: json", '    pattern: "*.json"\n    format: {type: json')
    assert error(write(tmp_path, text)).startswith(
        f"{tmp_path}/source.yaml:{line(text, 'pattern')} streams.0.pattern: transport 'tiny_api'"
    )
    text = FOLDER.replace('"*.json"', '"../*.json"')  # a transport with a pattern
    assert error(write(tmp_path, text)).startswith(
        f"{tmp_path}/source.yaml:{line(text, 'pattern')} streams.0.pattern: pattern '../*.json'"
    )


def test_a_missing_type_says_so(tmp_path: Path) -> None:
    message = error(write(tmp_path, FOLDER.replace("  type: local_folder\n", "")))
    assert message.startswith(f"{tmp_path}/source.yaml:4 connector: `type` is required: one of ")


def test_option_messages_carry_no_pydantic_prefix(tmp_path: Path) -> None:
    text = FOLDER.replace('"*.json"', '"../*.json"')
    assert "Value error" not in error(write(tmp_path, text))


def test_one_broken_source_file_does_not_hide_the_others(tmp_path: Path) -> None:
    write(tmp_path, FOLDER, "shop.yaml")
    write(tmp_path, API.replace("name: shop_api", "name: api"), "api.yaml")
    write(tmp_path, FOLDER.replace("type: local_folder", "type: ftp"), "ftp.yaml")
    write(tmp_path, FOLDER.replace("  path: drop\n", "  path: drop\n  password: x\n"), "pw.yaml")
    write(tmp_path, FOLDER.replace("kind: channel", "kind: [channel"), "syntax.yaml")
    write(tmp_path, FOLDER, "copy.yaml")  # a second source named `shop`
    assert sorted(sources(tmp_path)) == ["api", "shop"]
    broken = {stem: str(e) for stem, e in broken_sources(tmp_path).items()}
    assert sorted(broken) == ["ftp", "pw", "shop", "syntax"]  # by file stem; `copy` sorts first
    assert broken["ftp"].startswith(f"{tmp_path}/ftp.yaml:4 connector: unknown connector type")
    assert broken["pw"].startswith(f"{tmp_path}/pw.yaml:")
    assert "secret written inline in YAML (password)" in broken["pw"]
    assert "also defined in" in broken["shop"]
    assert re.match(rf"{re.escape(str(tmp_path))}/syntax\.yaml:\d+: invalid YAML", broken["syntax"])


def test_a_file_that_is_not_a_mapping_is_one_broken_source(tmp_path: Path) -> None:
    write(tmp_path, FOLDER, "shop.yaml")
    write(tmp_path, "- name: a\n- name: b\n", "list.yaml")
    write(tmp_path, "", "empty.yaml")
    assert sorted(sources(tmp_path)) == ["shop"]
    broken = {stem: str(e) for stem, e in broken_sources(tmp_path).items()}
    assert (
        broken["list"]
        == f"{tmp_path}/list.yaml: the source file is a list, not a mapping of keys (name:, system:, connector: ...)"
    )
    assert broken["empty"].startswith(f"{tmp_path}/empty.yaml: the source file is empty")
