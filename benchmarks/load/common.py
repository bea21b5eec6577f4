"""What the load-test scripts share: where the dataset's secrets live, the Redis keys, the
provinces of the synthetic market. Imports nothing of Django, so that the locustfile and the
raw endpoint stay light."""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Outside version control (var/ is ignored): the data-encryption key the dataset was written
# with, the users' password and the API clients' secrets.
STATE_DIR = Path(os.environ.get("LOAD_STATE_DIR", ROOT / "var" / "load"))
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/laborlink_load"


def database_name(url: str | None = None) -> str:
    url = url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    return url.rsplit("/", 1)[-1].split("?")[0]


def secrets_file() -> Path:
    """One file per database: the key its rows were encrypted with, its clients' secrets."""
    return STATE_DIR / f"{database_name()}.json"


DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/11"

IMPORTING = ("33", "32", "44")  # Zhejiang, Jiangsu, Guangdong
EXPORTING = ("51", "52", "53", "41")  # Sichuan, Guizhou, Yunnan, Henan
API_CLIENT_PROVINCES = ("33", "51")  # one importing, one exporting side

# Redis lists (db 11): who logs in as whom, and the rows each write takes (one per request).
KEY_USERS = "load:users:{role}"  # usernames; a locust user pops one
KEY_DRAFTS = "load:drafts:{username}"  # draft posting ids of that HR officer's employer
KEY_PENDING = "load:pending:{province}"  # "applicant_id:importing" of an exporting province
KEY_ARRIVALS = "load:arrivals:{username}"  # departed placement ids of that employer
KEY_CLIENTS = "load:clients"  # JSON {"client_id", "client_secret", "province"}


def load_secrets(*, create: bool = False) -> dict:
    """The dataset's secrets; with `create`, made on first use (mode 0600)."""
    path = secrets_file()
    if path.exists():
        return json.loads(path.read_text())
    if not create:
        raise SystemExit(
            f"{path} is missing: generate the dataset first (benchmarks/load/generate.py)."
        )
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    values = {
        "data_encryption_key": base64.b64encode(os.urandom(32)).decode(),
        "password": "Load-" + secrets.token_urlsafe(12),
        "clients": [],
    }
    save_secrets(values)
    return values


def save_secrets(values: dict) -> None:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    path = secrets_file()
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(json.dumps(values, indent=2))
