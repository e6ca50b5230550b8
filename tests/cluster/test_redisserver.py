"""The private Redis the cluster tests start when no other answers: up, then gone."""

from __future__ import annotations

import pytest
import redisserver


def test_private_redis_server_answers_and_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(redisserver.ENV_FORCE_PRIVATE, "1")
    monkeypatch.setenv(redisserver.ENV_URL, "redis://127.0.0.1:1/0")  # forced: not used
    with redisserver.redis_url() as url:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        assert port != 6379
        assert redisserver.ping("127.0.0.1", port)
    assert not redisserver.ping("127.0.0.1", port)


def test_a_named_redis_that_does_not_answer_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from cluster import ClusterError

    monkeypatch.delenv(redisserver.ENV_FORCE_PRIVATE, raising=False)
    monkeypatch.setenv(redisserver.ENV_URL, "redis://127.0.0.1:1/0")
    with pytest.raises(ClusterError, match="does not answer PING"), redisserver.redis_url():
        pass
