"""The database: the ORM base and column types (`base`), engines and what an outage is
(`engines`), replica reads that fail over (`replicas`), the database a process talks to
(`database`) and the per-request unit of work (`unit_of_work`)."""

from taskyard.db.base import (
    LIKE_ESCAPE,
    Base,
    UTCDateTime,
    contains_pattern,
    insert_ignoring_conflicts,
    str_enum,
    utc_now,
)
from taskyard.db.database import Database
from taskyard.db.engines import (
    PRIMARY_APPLICATION_NAME,
    REPLICA_APPLICATION_NAME,
    is_outage,
    outage_guard,
)
from taskyard.db.replicas import ReplicaSession
from taskyard.db.unit_of_work import SAFE_METHODS, AfterCommit, DbSession, after_commit, commit

__all__ = [
    "LIKE_ESCAPE",
    "PRIMARY_APPLICATION_NAME",
    "REPLICA_APPLICATION_NAME",
    "SAFE_METHODS",
    "AfterCommit",
    "Base",
    "Database",
    "DbSession",
    "ReplicaSession",
    "UTCDateTime",
    "after_commit",
    "commit",
    "contains_pattern",
    "insert_ignoring_conflicts",
    "is_outage",
    "outage_guard",
    "str_enum",
    "utc_now",
]
