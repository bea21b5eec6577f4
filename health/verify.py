"""Verify a health-certificate token offline, with no database:

    python -m health.verify TOKEN --trust-list trust-list.json [--revocations revoked.json]
                           [--lang zh-hans|en] [--json] [--at 2027-01-31T12:00:00+08:00]

TOKEN may be "-" to read it from standard input. The trust list is the JWKS published at
/health/trust-list.json ({"keys": [...]}, each key with its "iss"), the revocation list the
JSON at /health/revocations.json ({"revoked": ["<certificate number>", ...]}). Prints the
reason code and its message (and the certificate's facts when it could be read); exits 0 when
the certificate is valid, 1 when it is not, 2 on a usage error (a bad option, or a trust list
or revocation list that cannot be read).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def _configure_translations(language: str) -> None:
    """Django's translation machinery without a project: no settings module, no database."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            USE_I18N=True,
            LANGUAGE_CODE=language,
            LANGUAGES=[("zh-hans", "简体中文"), ("en", "English")],
            LOCALE_PATHS=[str(LOCALE_DIR)],
            INSTALLED_APPS=[],
        )
        django.setup()


def _load_json(parser: argparse.ArgumentParser, path: str, what: str, member: str) -> dict:
    """The JSON object in `path`, which must hold a list under `member`; a usage error (exit
    2, one line on standard error, no traceback) otherwise, never a silent "not valid"."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        parser.error(f"cannot read the {what} {path}: {exc}")
    if not isinstance(data, dict) or not isinstance(data.get(member), list):
        parser.error(f'the {what} {path} is not a JSON object with a "{member}" list')
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m health.verify", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("token", help='the token from the QR code, or "-" for standard input')
    parser.add_argument("--trust-list", required=True, help="the published JWKS file")
    parser.add_argument("--revocations", help="the published revocation list file")
    parser.add_argument("--lang", default="zh-hans", choices=["zh-hans", "en"])
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    parser.add_argument("--at", help="check as of this ISO 8601 time instead of now")
    args = parser.parse_args(argv)

    _configure_translations(args.lang)
    from django.utils import translation

    from health import tokens

    trust = _load_json(parser, args.trust_list, "trust list", "keys")
    revoked = (
        tokens.revoked_numbers(_load_json(parser, args.revocations, "revocation list", "revoked"))
        if args.revocations
        else frozenset()
    )
    token = sys.stdin.read() if args.token == "-" else args.token  # noqa: S105
    now = None
    if args.at:
        try:
            now = datetime.fromisoformat(args.at)
        except ValueError:
            parser.error("--at takes an ISO 8601 time with its offset")
        if now.utcoffset() is None:
            parser.error("--at needs a time-zone offset, e.g. +08:00")
    with translation.override(args.lang):
        outcome = tokens.verify(token, trust_list=trust, revoked=revoked, now=now)
        data = outcome.as_dict()
    # A terminal that cannot show Chinese still gets the reason code and an exit status.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(f"{data['code']}: {data['message']}")
        for key, value in (data.get("certificate") or {}).items():
            print(f"  {key}: {value}")
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
