"""Kyrgyz for the console (issue 16): every string the console's code and templates mark
is translated, and the compiled catalog the gateway loads is the one the .po file says."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "services" / "gateway" / "translations"


def marked_strings() -> set[str]:
    with open(TRANSLATIONS / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    return {message if isinstance(message, str) else message[0]
            for _, _, message, _, _ in extract_from_dir(
                str(ROOT), method_map, options_map,
                keywords={"_": None, "_l": None, "gettext": None})}


def test_every_marked_string_has_a_kyrgyz_translation() -> None:
    with open(TRANSLATIONS / "ky" / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalog = read_po(po)
    translated = {m.id: m.string for m in catalog if m.id and m.string}
    marked = marked_strings()
    assert len(marked) > 150  # the pages, the forms and the messages
    assert sorted(marked - translated.keys()) == []
    # Kyrgyz in Cyrillic, with its own letters somewhere in it
    assert any(letter in "".join(translated.values()) for letter in "өүң")
    assert translated["Замечания"] == "Эскертүүлөр"


def test_the_compiled_catalog_is_the_po_files() -> None:
    with open(TRANSLATIONS / "ky" / "LC_MESSAGES" / "messages.po", "rb") as po:
        source = {m.id: m.string for m in read_po(po) if m.id}
    with open(TRANSLATIONS / "ky" / "LC_MESSAGES" / "messages.mo", "rb") as mo:
        compiled = {m.id: m.string for m in read_mo(io.BytesIO(mo.read())) if m.id}
    assert compiled == source
