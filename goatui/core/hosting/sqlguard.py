"""What a plugin's SQL may do: its own tables and rows in the --db file, nothing else.

Plugin SQL (DBQuery and DBExec, and the WASM host calls db_query and db_exec, all
through goatui.core.hosting's Database) runs under a SQLite authorizer. Allowed: reading
and writing rows, creating, changing and dropping tables, indexes, views and triggers
(also temporary ones), transactions and savepoints, ANALYZE, REINDEX, plain VACUUM, the
full-text and r-tree virtual tables, and the pragmas that only describe the file or
tune this connection. Refused, with the reason in the error: attaching any other file
(`ATTACH DATABASE`, and `VACUUM INTO '/path'`, which attaches its target: issue #18,
they wrote files anywhere), loading extensions, virtual tables of other modules, and
every other pragma (temp_store_directory, writable_schema, query_only, ...).

Sizes are bounded too: no single string or blob larger than the result limit
(`zeroblob(1e9)` would allocate a gigabyte), and SQL text of at most 1 MiB.
"""

from __future__ import annotations

import sqlite3

MAX_SQL_BYTES = 1024 * 1024

# Pragmas a plugin may use, with an argument or without: those that describe the
# file's schema or check it, the file's own version numbers, and checks of this
# connection. Those that only describe the file, only without an argument.
_PRAGMAS = frozenset(
    {
        "application_id",
        "defer_foreign_keys",
        "foreign_key_check",
        "foreign_key_list",
        "foreign_keys",
        "index_info",
        "index_list",
        "index_xinfo",
        "integrity_check",
        "quick_check",
        "recursive_triggers",
        "table_info",
        "table_list",
        "table_xinfo",
        "user_version",
    }
)
_READ_ONLY_PRAGMAS = frozenset(
    {
        "collation_list",
        "data_version",
        "freelist_count",
        "page_count",
        "page_size",
        "schema_version",
    }
)
_VIRTUAL_TABLE_MODULES = frozenset({"fts3", "fts4", "fts5", "rtree", "rtree_i32"})
_REFUSED_FUNCTIONS = frozenset({"load_extension", "fts3_tokenizer"})
# The file, temporary tables, and the private temporary copy plain VACUUM makes.
_SCHEMAS = frozenset({"main", "temp", "vacuum_db"})

_ALWAYS = frozenset(
    {
        sqlite3.SQLITE_SELECT,
        sqlite3.SQLITE_READ,
        sqlite3.SQLITE_INSERT,
        sqlite3.SQLITE_UPDATE,
        sqlite3.SQLITE_DELETE,
        sqlite3.SQLITE_TRANSACTION,
        sqlite3.SQLITE_SAVEPOINT,
        sqlite3.SQLITE_RECURSIVE,
        sqlite3.SQLITE_ANALYZE,
        sqlite3.SQLITE_REINDEX,
        sqlite3.SQLITE_DETACH,
        sqlite3.SQLITE_CREATE_INDEX,
        sqlite3.SQLITE_CREATE_TABLE,
        sqlite3.SQLITE_CREATE_TEMP_INDEX,
        sqlite3.SQLITE_CREATE_TEMP_TABLE,
        sqlite3.SQLITE_CREATE_TEMP_TRIGGER,
        sqlite3.SQLITE_CREATE_TEMP_VIEW,
        sqlite3.SQLITE_CREATE_TRIGGER,
        sqlite3.SQLITE_CREATE_VIEW,
        sqlite3.SQLITE_DROP_INDEX,
        sqlite3.SQLITE_DROP_TABLE,
        sqlite3.SQLITE_DROP_TEMP_INDEX,
        sqlite3.SQLITE_DROP_TEMP_TABLE,
        sqlite3.SQLITE_DROP_TEMP_TRIGGER,
        sqlite3.SQLITE_DROP_TEMP_VIEW,
        sqlite3.SQLITE_DROP_TRIGGER,
        sqlite3.SQLITE_DROP_VIEW,
        sqlite3.SQLITE_ALTER_TABLE,
        sqlite3.SQLITE_DROP_VTABLE,
    }
)


class SqlGuard:
    """The authorizer of one connection; `refused` says why it last said no."""

    def __init__(self, connection: sqlite3.Connection, max_value_bytes: int) -> None:
        self.refused = ""
        connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max_value_bytes)
        connection.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, MAX_SQL_BYTES)
        connection.set_authorizer(self._authorize)

    def _authorize(
        self,
        action: int,
        arg1: str | None,
        arg2: str | None,
        database: str | None,
        _trigger_or_view: str | None,
    ) -> int:
        reason = self._refusal(action, arg1, arg2, database)
        if reason:
            self.refused = reason
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    def _refusal(
        self, action: int, arg1: str | None, arg2: str | None, database: str | None
    ) -> str:
        if database is not None and database not in _SCHEMAS:
            return f"only the --db file is open to plugins, not {database!r}"
        if action in _ALWAYS:
            return ""
        if action == sqlite3.SQLITE_ATTACH:
            # Plain VACUUM attaches a private temporary database, named "".
            return "" if not arg1 else "plugins may not open other files (ATTACH, VACUUM INTO)"
        if action == sqlite3.SQLITE_FUNCTION:
            return f"the function {arg2} is not allowed" if arg2 in _REFUSED_FUNCTIONS else ""
        if action == sqlite3.SQLITE_CREATE_VTABLE:
            if (arg2 or "").lower() in _VIRTUAL_TABLE_MODULES:
                return ""
            return f"virtual tables of module {arg2!r} are not allowed"
        if action == sqlite3.SQLITE_PRAGMA:
            name = (arg1 or "").lower()
            if name in _PRAGMAS or (name in _READ_ONLY_PRAGMAS and arg2 is None):
                return ""
            if name in _READ_ONLY_PRAGMAS:
                return f"PRAGMA {name} may be read, not set"
            return f"PRAGMA {name} is not allowed"
        return f"SQLite action {action} is not allowed"
