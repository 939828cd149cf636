"""Registries for the supply-chain tests, both on 127.0.0.1 only.

* :func:`docker_registry` starts Debian's ``docker-registry`` (distribution 2.8: no Referrers API,
  so clients use the ``sha256-<hex>`` tag fallback) with filesystem storage in a temp dir, and
  stops it by PID.
* :class:`FakeRegistry` is a scriptable read-only registry on ``http.server`` for what a real one
  will not do on demand: Basic or Bearer-token auth, the OCI 1.1 Referrers API, 500s, slow answers,
  oversized bodies. It counts requests so tests can prove a cache made none.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

DOCKER_REGISTRY = "/usr/bin/docker-registry"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningRegistry:
    host: str
    pid: int
    storage: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}"


@contextlib.contextmanager
def docker_registry(workdir: Path) -> Iterator[RunningRegistry]:
    """Run ``docker-registry serve`` on a free loopback port; skip (fail under CI) when absent."""
    binary = shutil.which("docker-registry") or (DOCKER_REGISTRY if os.path.exists(DOCKER_REGISTRY) else None)
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("docker-registry is not installed (Debian package docker-registry); CI must provide it")
        pytest.skip("docker-registry is not installed (apt-get install docker-registry)")
    port = free_port()
    storage = workdir / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    config = workdir / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n", encoding="utf-8")
    log = (workdir / "registry.log").open("wb")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    host = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {(workdir / 'registry.log').read_text()[-2000:]}")
            try:
                if requests.get(f"http://{host}/v2/", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("docker-registry did not start within 20 s")
            time.sleep(0.1)
        yield RunningRegistry(host, process.pid, storage)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class FakeRegistry:
    """Serves ``manifests[repo][reference]`` and ``blobs[repo][digest]``; behaviour set per test."""

    manifests: dict[str, dict[str, tuple[bytes, str]]] = field(default_factory=dict)
    blobs: dict[str, dict[str, bytes]] = field(default_factory=dict)
    referrers_api: bool = False
    auth: tuple[str, str, str] | None = None  # ("basic"|"bearer", username, password)
    #: The token server also hands out tokens without credentials (public images on ghcr.io, Docker Hub).
    anonymous_tokens: bool = False
    fail_times: int = 0
    fail_status: int = 500
    delay: float = 0.0
    #: Send bodies without Content-Length (the client must cap while streaming).
    omit_length: bool = False
    #: Serve HTTPS with this server-side context (the custom-CA tests).
    tls: ssl.SSLContext | None = None
    requests: list[str] = field(default_factory=list)
    token_requests: list[dict[str, list[str]]] = field(default_factory=list)
    host: str = ""
    _server: ThreadingHTTPServer | None = None

    # ---- content -----------------------------------------------------------------------------

    def add_manifest(self, repo: str, raw: bytes, media_type: str, tag: str | None = None) -> str:
        digest = _digest(raw)
        entries = self.manifests.setdefault(repo, {})
        entries[digest] = (raw, media_type)
        if tag:
            entries[tag] = (raw, media_type)
        return digest

    def add_blob(self, repo: str, data: bytes) -> str:
        digest = _digest(data)
        self.blobs.setdefault(repo, {})[digest] = data
        return digest

    def copy_from(self, pusher: Any, repo: str, references: list[str]) -> None:
        """Mirror manifests (and their blobs) pulled from another registry, e.g. a docker-registry."""
        for reference in references:
            raw = pusher.get_manifest(repo, reference)
            if raw is None:
                continue
            body = json.loads(raw)
            media_type = body.get("mediaType", "application/vnd.oci.image.manifest.v1+json")
            self.add_manifest(repo, raw, media_type, None if reference.startswith("sha256:") else reference)
            for descriptor in [body.get("config"), *body.get("layers", [])]:
                if descriptor:
                    data = pusher.session.get(f"{pusher.base}/{repo}/blobs/{descriptor['digest']}", timeout=10)
                    self.add_blob(repo, data.content)

    # ---- server ------------------------------------------------------------------------------

    def start(self) -> FakeRegistry:
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                registry._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _token(self) -> str:
        assert self.auth is not None
        return hashlib.sha256(f"{self.auth[1]}:{self.auth[2]}".encode()).hexdigest()

    def _authorised(self, handler: BaseHTTPRequestHandler) -> bool:
        if self.auth is None:
            return True
        scheme, user, password = self.auth
        given = handler.headers.get("Authorization", "")
        if scheme == "basic":
            return given == "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        return given == f"Bearer {self._token()}"

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlparse(handler.path)
        self.requests.append(url.path)
        if self.delay:
            time.sleep(self.delay)
        if url.path == "/token":
            self.token_requests.append(parse_qs(url.query))
            assert self.auth is not None
            expected = "Basic " + base64.b64encode(f"{self.auth[1]}:{self.auth[2]}".encode()).decode()
            if handler.headers.get("Authorization") != expected and not (
                    self.anonymous_tokens and "Authorization" not in handler.headers):
                return self._send(handler, 401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', "application/json")
            return self._send(handler, 200, json.dumps({"token": self._token()}).encode(), "application/json")
        if self.fail_times > 0:
            self.fail_times -= 1
            return self._send(handler, self.fail_status, b"boom", "text/plain")
        if not self._authorised(handler):
            assert self.auth is not None
            if self.auth[0] == "basic":
                challenge = 'Basic realm="fake"'
            else:
                challenge = (f'Bearer realm="http://{self.host}/token",service="fake-registry",'
                             f'scope="repository:{self._repo(url.path)}:pull"')
            return self._send(handler, 401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', "application/json",
                              {"WWW-Authenticate": challenge})
        parts = url.path.split("/")
        if url.path in ("/v2/", "/v2"):
            return self._send(handler, 200, b"{}", "application/json")
        for kind in ("manifests", "blobs", "referrers"):
            if kind in parts:
                at = len(parts) - 1 - parts[::-1].index(kind)
                repo, reference = "/".join(parts[2:at]), "/".join(parts[at + 1:])
                return self._serve(handler, kind, repo, reference)
        return self._send(handler, 404, b"not found", "text/plain")

    def _repo(self, path: str) -> str:
        parts = path.split("/")
        for kind in ("manifests", "blobs", "referrers"):
            if kind in parts:
                return "/".join(parts[2:parts.index(kind)])
        return ""

    def _serve(self, handler: BaseHTTPRequestHandler, kind: str, repo: str, reference: str) -> None:
        if kind == "manifests":
            found = self.manifests.get(repo, {}).get(reference)
            if found is None:
                return self._send(handler, 404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', "application/json")
            return self._send(handler, 200, found[0], found[1])
        if kind == "blobs":
            data = self.blobs.get(repo, {}).get(reference)
            if data is None:
                return self._send(handler, 404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}', "application/json")
            return self._send(handler, 200, data, "application/octet-stream")
        if not self.referrers_api:
            return self._send(handler, 404, b"404 page not found", "text/plain")
        descriptors = []
        for digest, (raw, media_type) in sorted(self.manifests.get(repo, {}).items()):
            if not digest.startswith("sha256:"):
                continue
            body = json.loads(raw)
            if (body.get("subject") or {}).get("digest") == reference:
                descriptors.append({"mediaType": media_type, "digest": digest, "size": len(raw),
                                    "artifactType": body.get("artifactType")})
        index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}).encode()
        return self._send(handler, 200, index, OCI_INDEX)

    def _send(self, handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        if not self.omit_length:
            handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            handler.wfile.write(body)


@contextlib.contextmanager
def fake_registry(**settings: Any) -> Iterator[FakeRegistry]:
    registry = FakeRegistry(**settings).start()
    try:
        yield registry
    finally:
        registry.stop()
