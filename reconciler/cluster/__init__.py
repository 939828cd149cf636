"""The ``Cluster`` interface and its embedded implementation, ``MemoryCluster``."""

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
from .memory import MemoryCluster
from .memory_watch import MemoryWatch
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
    "MemoryCluster",
    "MemoryWatch",
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
