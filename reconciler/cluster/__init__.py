"""The ``Cluster`` interface, its errors and helpers.

The embedded implementation is imported from its own modules (``reconciler.cluster.memory``:
``MemoryCluster``; ``reconciler.cluster.memory_watch``: ``MemoryWatch``), so the in-cluster
controller, which talks to a real API server, never loads it.
"""

from .base import Cluster, JsonObject, ObjectList, PodLogs, Propagation, Watch, WatchEvent
from .errors import (
    ApiError,
    ApiTimeout,
    BadRequest,
    Conflict,
    Gone,
    Invalid,
    NotFound,
    ServerError,
    TooManyRequests,
    error_for_status,
    is_transient,
)
from .faults import FaultInjector
from .request_log import RequestRecord
from .resources import ResourceRegistry, ResourceType, default_registry
from .selectors import Selector, parse_selector, selector_from

__all__ = [
    "ApiError",
    "ApiTimeout",
    "BadRequest",
    "Cluster",
    "Conflict",
    "FaultInjector",
    "Gone",
    "Invalid",
    "JsonObject",
    "NotFound",
    "ObjectList",
    "PodLogs",
    "Propagation",
    "RequestRecord",
    "ResourceRegistry",
    "ResourceType",
    "Selector",
    "ServerError",
    "TooManyRequests",
    "Watch",
    "WatchEvent",
    "default_registry",
    "error_for_status",
    "is_transient",
    "parse_selector",
    "selector_from",
]
