"""Findings of the security probe (issue 11) that live in the server's own guards: each test
failed before its fix. See docs/reliability.md, "Security probe"."""

from __future__ import annotations

import json
import re

from server.web.html import script_data


def test_page_data_cannot_end_or_comment_its_script_block():
    hostile = "</script><!--<script>&amp;\u2028\u2029>"
    block = script_data("d", {"next": hostile, "note": hostile})
    inner = re.fullmatch(r'<script type="application/json" id="d">(.*)</script>', block, re.S)
    assert inner is not None
    text = inner.group(1)
    for forbidden in ("<", ">", "&", "\u2028", "\u2029"):
        assert forbidden not in text
    assert json.loads(text) == {"next": hostile, "note": hostile}
