"""Keep the page's message catalogue (vp3d/locale) in step with the code, with Babel.

    python scripts/i18n.py            # extract messages.pot, update every .po, compile the .mo
    python scripts/i18n.py --check    # exit 1 naming what is stale or untranslated

Strings are found where the code marks them: ``_("...")`` and ``N_("...")`` in vp3d/. A new
message lands in each language's .po with an empty translation; fill it in and run this again.
The compiled .mo files are committed, so a fresh checkout and the installed wheel need no build.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "vp3d" / "locale"
POT = LOCALE / "messages.pot"
KEYWORDS = {"_": None, "N_": None, "gettext": None}


def extract() -> Catalog:
    """Every marked string of vp3d/, with where it is used."""
    catalog = Catalog(project="vp3d", version="0.1.0", charset="utf-8", msgid_bugs_address="",
                      header_comment="# The page's words, extracted from vp3d/ by python scripts/i18n.py.")
    method_map = [("**/locale/**", "ignore"), ("**.py", "python")]
    for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / "vp3d", method_map, keywords=KEYWORDS, strip_comment_tags=True):
        catalog.add(message, None, [(f"vp3d/{filename}", lineno)], auto_comments=comments, context=context)
    return catalog


def languages() -> list[str]:
    return sorted(p.name for p in LOCALE.iterdir() if (p / "LC_MESSAGES").is_dir())


def _po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "messages.po"


def _write(path: Path, catalog: Catalog, writer) -> None:
    buffer = io.BytesIO()
    writer(buffer, catalog)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def _po_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, sort_output=True, width=100)
    return buffer.getvalue()


def _mo_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def problems() -> list[str]:
    """What is out of step: the .pot against the code, each .po against the .pot, each .mo
    against its .po, and messages with no translation."""
    found = []
    template = extract()
    ids = {m.id for m in template if m.id}
    if not POT.is_file():
        return [f"{_shown(POT)} is missing: run python scripts/i18n.py"]
    with POT.open("rb") as f:
        pot_ids = {m.id for m in read_po(f) if m.id}
    if pot_ids != ids:
        found.append(f"{_shown(POT)} is stale (new: {sorted(ids - pot_ids)[:3]}, "
                     f"gone: {sorted(pot_ids - ids)[:3]}): run python scripts/i18n.py")
    for lang in languages():
        po = _po_path(lang)
        with po.open("rb") as f:
            catalog = read_po(f, locale=lang)
        po_ids = {m.id for m in catalog if m.id and not m.fuzzy}
        missing = sorted(ids - po_ids)
        untranslated = sorted(m.id for m in catalog if m.id and m.id in ids and (not m.string or m.fuzzy))
        if missing or untranslated:
            found.append(f"{_shown(po)}: no translation of {(missing + untranslated)[:3]} "
                         f"({len(set(missing + untranslated))} in all)")
        mo = po.with_suffix(".mo")
        if not mo.is_file() or mo.read_bytes() != _mo_bytes(catalog):
            found.append(f"{_shown(mo)} is not compiled from its .po: run python scripts/i18n.py")
    return found


def update() -> None:
    """Write the .pot, merge it into each .po (translations kept), compile each .mo."""
    template = extract()
    _write(POT, template, lambda b, c: write_po(b, c, sort_output=True, width=100, omit_header=False))
    for lang in languages():
        po = _po_path(lang)
        with po.open("rb") as f:
            catalog = read_po(f, locale=lang)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        catalog.project, catalog.version, catalog.fuzzy = "vp3d", "0.1.0", False
        catalog.msgid_bugs_address, catalog.last_translator, catalog.language_team = "", "vp3d", "vp3d"
        catalog.header_comment = (f"# The page's words in {lang} (vp3d/i18n.py). Translate each msgstr here,\n"
                                  "# then run python scripts/i18n.py to compile the .mo.")
        po.write_bytes(_po_bytes(catalog))
        with po.open("rb") as f:
            catalog = read_po(f, locale=lang)
        po.with_suffix(".mo").write_bytes(_mo_bytes(catalog))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report what is out of step; change nothing")
    args = parser.parse_args(argv)
    if args.check:
        found = problems()
        for line in found:
            print(line, file=sys.stderr)
        return 1 if found else 0
    update()
    return 0


if __name__ == "__main__":
    sys.exit(main())
