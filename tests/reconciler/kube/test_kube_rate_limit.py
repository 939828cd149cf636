"""Client-side QPS and burst (``--kube-api-qps`` / ``--kube-api-burst``): a token bucket in front
of every request KubeCluster sends, checked on the wire against kmock with a fake clock (no
real waiting, nothing timed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from reconciler.cluster.rate_limit import TokenBucket

if TYPE_CHECKING:
    from conftest import KmockServer, KubeFactory


class FakeTime:
    """A clock whose sleep only moves it forward, recording what the server had seen by then."""

    def __init__(self, server: KmockServer | None = None) -> None:
        self.now = 0.0
        self.server = server
        self.sleeps: list[tuple[float, int]] = []  # (seconds, requests the server had received)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append((seconds, len(self.server.requests) if self.server else 0))
        self.now += seconds


def configmap(name: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "ns"}, "data": {"k": "v"}}


def test_requests_beyond_the_burst_wait_for_tokens_before_reaching_the_server(
        emulator: KmockServer, make_kube: KubeFactory) -> None:
    time = FakeTime(emulator)
    limiter = TokenBucket(qps=2.0, burst=2, now=lambda: time.now, sleep=time.sleep)
    kube = make_kube(emulator, limiter=limiter)
    for n in range(4):
        kube.create(configmap(f"cm-{n}"))
    sent = len(emulator.requests)  # the creates and the discovery they needed
    assert sent >= 4
    # The first two went at once (the burst); every later one waited 1/qps seconds for its
    # token, and waited before it was sent: the server had seen one request more at each wait.
    assert [seconds for seconds, _ in time.sleeps] == [0.5] * (sent - 2)
    assert [seen for _, seen in time.sleeps] == list(range(2, sent))


def test_qps_zero_sends_without_waiting(emulator: KmockServer, make_kube: KubeFactory) -> None:
    time = FakeTime(emulator)
    kube = make_kube(emulator, limiter=TokenBucket(qps=0.0, burst=1, now=lambda: time.now, sleep=time.sleep))
    for n in range(5):
        kube.create(configmap(f"cm-{n}"))
    assert time.sleeps == []


def test_a_quiet_spell_refills_the_bucket_up_to_the_burst_only() -> None:
    time = FakeTime()
    bucket = TokenBucket(qps=10.0, burst=3, now=lambda: time.now, sleep=time.sleep)
    assert [bucket.wait() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.wait() == pytest.approx(0.1)
    time.now += 60.0  # a minute idle refills 3 tokens, not 600
    assert [bucket.wait() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.wait() == pytest.approx(0.1)


def test_waiters_queue_up_in_order() -> None:
    time = FakeTime()
    bucket = TokenBucket(qps=4.0, burst=1, now=lambda: time.now, sleep=time.sleep)
    # Reserved at the same instant: each one waits a quarter second longer than the one before.
    assert [bucket.reserve() for _ in range(4)] == pytest.approx([0.0, 0.25, 0.5, 0.75])


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="qps"):
        TokenBucket(qps=-1.0, burst=1)
    with pytest.raises(ValueError, match="burst"):
        TokenBucket(qps=5.0, burst=0)
