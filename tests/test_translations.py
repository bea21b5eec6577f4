"""Every user-facing string has its zh-hans translation, and the compiled file matches."""

from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parents[1] / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_every_message_is_translated_and_none_is_fuzzy():
    po = polib.pofile(str(LOCALE / "django.po"))
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert untranslated == []
    assert fuzzy == []
    assert not po.metadata_is_fuzzy


def test_compiled_catalogue_matches_the_source():
    po = polib.pofile(str(LOCALE / "django.po"))
    mo = polib.mofile(str(LOCALE / "django.mo"))
    compiled = {(entry.msgctxt, entry.msgid): entry.msgstr for entry in mo}
    source = {(entry.msgctxt, entry.msgid): entry.msgstr for entry in po.translated_entries()}
    assert compiled == source


def test_placeholders_survive_translation():
    import re

    po = polib.pofile(str(LOCALE / "django.po"))
    pattern = re.compile(r"%\(\w+\)[sd]|\{\w*\}")
    for entry in po.translated_entries():
        if entry.msgid_plural:
            # Chinese has one plural form: it stands for the plural source string.
            source, translations = entry.msgid_plural, list(entry.msgstr_plural.values())
        else:
            source, translations = entry.msgid, [entry.msgstr]
        for translation in translations:
            assert sorted(pattern.findall(source)) == sorted(pattern.findall(translation)), (
                entry.msgid
            )
