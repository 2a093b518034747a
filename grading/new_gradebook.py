"""A new SQLite gradebook file, stamped with nbgrader's schema version as nbgrader stamps it.

nbgrader's Gradebook stamps a database it creates with the head of its alembic migrations, which
it learns by running ``alembic heads`` in a subprocess: two to three seconds of a grading run,
for a value that is the same for every gradebook of the installed nbgrader. A run creates two
(the release check's, and the one the workers get), and the tests create dozens. So the head is
read here, in this process, from nbgrader's own migration scripts (what ``alembic heads``
reads, in milliseconds), and a file made here holds it before nbgrader opens it; nbgrader then
sees an existing database, and creates its tables in it as in any other.
"""

import functools
import sqlite3
from contextlib import closing

from alembic.script import ScriptDirectory
from nbgrader.dbutil import ALEMBIC_DIR


@functools.cache
def schema_version() -> str:
    """The alembic head of the installed nbgrader's gradebook schema."""
    head = ScriptDirectory(ALEMBIC_DIR).get_current_head()
    if head is None:
        raise RuntimeError(f"nbgrader's gradebook migrations ({ALEMBIC_DIR}) have no head: is nbgrader complete?")
    return head


def create(path: str) -> str:
    """Create the file at ``path`` (which must not exist); return its database URL."""
    with closing(sqlite3.connect(f"file:{path}?mode=rwc", uri=True)) as db, db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        db.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (schema_version(),))
    return "sqlite:///" + path
