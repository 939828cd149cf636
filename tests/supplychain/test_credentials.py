"""Registry credentials from docker config.json files and .dockerconfigjson pull-secret payloads."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from reconciler.supplychain import Credentials, TrustMaterialError


def _auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def test_docker_config_file_with_auth_and_username_password(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"auths": {
        "https://index.docker.io/v1/": {"auth": _auth("hub", "pw1")},
        "ghcr.io": {"username": "gh", "password": "pw:with:colons"},
        "quay.io": {},
    }}))
    credentials = Credentials.from_docker_config(path)
    hub = credentials.for_host("registry-1.docker.io")
    assert hub is not None and (hub.username, hub.password) == ("hub", "pw1")
    ghcr = credentials.for_host("GHCR.io")
    assert ghcr is not None and ghcr.password == "pw:with:colons"
    assert credentials.for_host("quay.io") is None
    assert "pw1" not in repr(credentials)


def test_first_pull_secret_naming_a_registry_wins() -> None:
    credentials = Credentials.from_pull_secrets([
        {"auths": {"ghcr.io": {"auth": _auth("first", "a")}}},
        {"auths": {"ghcr.io": {"auth": _auth("second", "b")}, "quay.io": {"auth": _auth("q", "c")}}},
    ])
    first, quay = credentials.for_host("ghcr.io"), credentials.for_host("quay.io")
    assert first is not None and first.username == "first"
    assert quay is not None and quay.username == "q"


@pytest.mark.parametrize(("config", "message"), [
    ({"auths": []}, "'auths' must be a map"),
    ({"auths": {"ghcr.io": {"auth": "%%%"}}}, "not base64 user:password"),
    ({"auths": {"ghcr.io": {"auth": base64.b64encode(b"nocolon").decode()}}}, "not base64 user:password"),
    ({"auths": {"ghcr.io": "x"}}, "must be a map"),
])
def test_malformed_configs_are_reported(config: dict[str, object], message: str) -> None:
    with pytest.raises(TrustMaterialError, match=message):
        Credentials.from_docker_config(config)


def test_unreadable_config_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{not json")
    with pytest.raises(TrustMaterialError, match="cannot read registry config"):
        Credentials.from_docker_config(path)
