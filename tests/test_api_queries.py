"""The integration API's dossier-code lookup (GET /api/v1/tickets/by-dossier/{code}) reads the
tickets of that code through their index (m011), newest first without sorting: it must not
read every ticket of every day (millions of rows after a few years at a province's server)."""

from __future__ import annotations

from server.api.handlers import _DOSSIER_SQL
from server.store import Store


def test_the_dossier_lookup_searches_its_index_and_needs_no_sort(tmp_path):
    store = Store.open(tmp_path / "x.db")
    try:
        steps = [row[3] for row in store.db.execute(
            "explain query plan " + _DOSSIER_SQL, ["H99.000-261125-0001", 1000]).fetchall()]
    finally:
        store.close()
    used = "SEARCH tickets USING INDEX tickets_dossier (dossier_code=?)"
    assert any(s.startswith(used) for s in steps), steps
    assert not [s for s in steps if s.startswith("SCAN") or "TEMP B-TREE" in s], steps
