"""The LaborLink load-test scenario (run by benchmarks/load/run.py; see README "Load test").

Users and weights (the mix):
- HrOfficer (3): logs in through the login page; lists its postings on the page and in the
  API; publishes one of its employer's draft postings through the API.
- BureauOfficer (2): opens the whitelist review queue page of one importing province and
  lists its pending entries in the API; approves one applicant (API).
- Employer (1): lists the arrivals awaiting confirmation; confirms one worker's arrival
  (API, with an Idempotency-Key).
- ApiClient (2): a province's system: OAuth2 client-credentials token, then pulls
  /api/v1/matching/matches/?latest=true page after page (cursor pagination).
- RawClient (not in the mix): the same page from the minimal WSGI app (raw_wsgi.py).

Every write takes its own row from a Redis list prepared by run.py (LPOP is atomic), so two
users never race for the same row: a failure is a failure of the application.

The server runs with production settings behind what would be a TLS-terminating proxy: each
request carries X-Forwarded-Proto: https (SECURE_PROXY_SSL_HEADER), so Django issues Secure
cookies and checks the Referer of POSTs as over HTTPS. A cookie jar does not send Secure
cookies over http://, so the session keeps the cookies itself and sends them.

Environment (set by run.py): LOAD_REDIS_URL (db 11), LOAD_PASSWORD, LOAD_CLOSED_LOOP=1 (no
think time, for the throughput phase), LOAD_MAX_PAGES (pages an API client follows before
starting again), LOAD_MEASURE_SECONDS (how long to measure once every user has logged in),
LOAD_FAILURES_FILE (every failure of the whole run, log-ins included),
LOAD_WITHOUT_REVIEW_PAGE=1 (diagnostic).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import uuid
from datetime import timedelta
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import gevent
import redis
from locust import FastHttpUser, between, constant, events, task
from locust.exception import StopUser

# the same keys as common.py (this file imports nothing of the project)
KEY_USERS = "load:users:{role}"
KEY_DRAFTS = "load:drafts:{username}"
KEY_PENDING = "load:pending:{province}"
KEY_ARRIVALS = "load:arrivals:{username}"
KEY_CLIENTS = "load:clients"

REDIS = redis.Redis.from_url(os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/11"))
PASSWORD = os.environ.get("LOAD_PASSWORD", "")
CLOSED_LOOP = os.environ.get("LOAD_CLOSED_LOOP") == "1"
WITHOUT_REVIEW_PAGE = os.environ.get("LOAD_WITHOUT_REVIEW_PAGE") == "1"
MAX_PAGES = int(os.environ.get("LOAD_MAX_PAGES", "50"))
THINK = constant(0) if CLOSED_LOOP else between(1, 3)
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')

MEASURE_SECONDS = float(os.environ.get("LOAD_MEASURE_SECONDS", "0"))
_client_turn = itertools.count()
failures: dict[str, int] = {}
starved: dict[str, int] = {}  # writes skipped: the Redis list of rows was empty
requests_total = {"count": 0}
# log-ins and tokens of the whole run (they happen before the measurement starts)
session_starts: dict[str, list[float]] = {"login (POST)": [], "API client token": []}
started_users = {"count": 0, "measuring": False}


@events.request.add_listener
def _count(request_type, name, response_time, response_length, exception=None, **kwargs):
    requests_total["count"] += 1
    if name in session_starts:
        session_starts[name].append(response_time)
    if exception is not None:
        key = f"{request_type} {name}: {str(exception)[:120]}"
        failures[key] = failures.get(key, 0) + 1


def take(key: str) -> bytes | None:
    """The next row for a write, or None (counted) when the list is used up."""
    item = REDIS.lpop(key)
    if item is None:
        name = key.split(":")[1]
        starved[name] = starved.get(name, 0) + 1
    return item


def user_ready(environment) -> None:
    """Once every user has logged in (or got its token), the statistics start from zero and
    the run lasts LOAD_MEASURE_SECONDS more: the log-in burst of the start is not measured
    as steady traffic (its failures still count, in LOAD_FAILURES_FILE)."""
    started_users["count"] += 1
    runner = environment.runner
    if (
        MEASURE_SECONDS
        and not started_users["measuring"]
        and started_users["count"] >= (runner.target_user_count or 0)
    ):
        started_users["measuring"] = True
        environment.stats.reset_all()
        gevent.spawn_later(MEASURE_SECONDS, runner.quit)


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@events.quitting.add_listener
def _write_failures(environment, **kwargs):
    path = os.environ.get("LOAD_FAILURES_FILE")
    if path:
        starts = {
            name: {
                "count": len(times),
                "p50": _percentile(times, 0.5),
                "p95": _percentile(times, 0.95),
            }
            for name, times in session_starts.items()
        }
        with open(path, "w") as out:
            json.dump(
                {
                    "requests": requests_total["count"],
                    "failures": failures,
                    "session_starts": starts,
                    "measured": started_users["measuring"],
                    "starved": starved,
                },
                out,
            )


class BrowserSession(FastHttpUser):
    """A person's browser behind the HTTPS proxy: keeps its (Secure) cookies itself."""

    abstract = True
    role = ""
    wait_time = THINK

    def on_start(self) -> None:
        name = REDIS.lpop(KEY_USERS.format(role=self.role))
        if name is None:
            raise StopUser()
        self.username = name.decode()
        self.cookies: dict[str, str] = {}
        origin = urlsplit(self.host)
        self.referer = f"https://{origin.netloc}/"
        self.login()
        if self.role != "bureau":
            user_ready(self.environment)

    def headers(self, extra: dict | None = None) -> dict[str, str]:
        headers = {
            "X-Forwarded-Proto": "https",
            "Referer": self.referer,
            "Accept-Language": "zh-hans",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if extra:
            headers.update(extra)
        return headers

    def keep_cookies(self, response) -> None:
        for header in response.headers.getlist("Set-Cookie") if response.headers else []:
            for morsel in SimpleCookie(header).values():
                if morsel.value:
                    self.cookies[morsel.key] = morsel.value
                else:
                    self.cookies.pop(morsel.key, None)

    def get(self, url: str, name: str, **kwargs):
        with self.client.get(url, name=name, headers=self.headers(), catch_response=True) as r:
            self.keep_cookies(r)
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")
            return r

    def post_json(self, url: str, name: str, body: dict, extra: dict | None = None, ok=(200,)):
        headers = self.headers(
            {"Content-Type": "application/json", "X-CSRFToken": self.cookies.get("csrftoken", "")}
        )
        if extra:
            headers.update(extra)
        with self.client.post(
            url, name=name, data=json.dumps(body), headers=headers, catch_response=True
        ) as r:
            self.keep_cookies(r)
            if r.status_code not in ok:
                r.failure(f"status {r.status_code}: {(r.text or '')[:200]}")
            return r

    def login(self) -> None:
        page = self.get("/accounts/login/", name="login page")
        match = CSRF_INPUT.search(page.content or b"")
        if match is None:
            raise StopUser()
        headers = self.headers({"Content-Type": "application/x-www-form-urlencoded"})
        body = (
            f"csrfmiddlewaretoken={match.group(1).decode()}"
            f"&username={self.username}&password={PASSWORD}"
        )
        with self.client.post(
            "/accounts/login/",
            name="login (POST)",
            data=body,
            headers=headers,
            allow_redirects=False,
            catch_response=True,
        ) as r:
            self.keep_cookies(r)
            if r.status_code != 302 or "sessionid" not in self.cookies:
                r.failure(f"login refused: status {r.status_code}")
                raise StopUser()


class HrOfficer(BrowserSession):
    weight = 3
    role = "hr"

    @task(3)
    def postings_page(self) -> None:
        self.get("/recruitment/postings/", name="HR postings page")

    @task(3)
    def postings_api(self) -> None:
        self.get("/api/v1/postings/", name="HR postings API")

    @task(1)
    def publish(self) -> None:
        pk = take(KEY_DRAFTS.format(username=self.username))
        if pk is None:
            return
        self.post_json(f"/api/v1/postings/{int(pk)}/publish/", "HR publish posting (API)", {})


class BureauOfficer(BrowserSession):
    weight = 2
    role = "bureau"

    def on_start(self) -> None:
        super().on_start()
        self.province = self.username.split("-")[-2]  # load-test-bureau-51-3
        self.importing = ("33", "32", "44")[int(self.username.split("-")[-1]) % 3]
        user_ready(self.environment)

    @task(2)
    def review_page(self) -> None:
        if WITHOUT_REVIEW_PAGE:  # diagnostic run only (run.py --without-review-page)
            self.pending_api()
            return
        self.get(
            f"/recruitment/whitelist/review/?province={self.importing}",
            name="bureau review queue page",
        )

    @task(2)
    def pending_api(self) -> None:
        self.get("/api/v1/whitelist/?status=pending", name="bureau pending entries API")

    @task(1)
    def approve(self) -> None:
        item = take(KEY_PENDING.format(province=self.province))
        if item is None:
            return
        applicant, importing = item.decode().split(":")
        expires = (_today() + timedelta(days=180)).isoformat()
        self.post_json(
            "/api/v1/whitelist/approve/",
            "bureau approve whitelist (API)",
            {
                "applicants": [int(applicant)],
                "importing_province": importing,
                "expires_on": expires,
            },
        )


class Employer(BrowserSession):
    weight = 1
    role = "employer"

    @task(1)
    def arrivals_api(self) -> None:
        self.get("/api/v1/transport/arrivals/", name="employer arrivals API")

    @task(2)
    def confirm(self) -> None:
        pk = take(KEY_ARRIVALS.format(username=self.username))
        if pk is None:
            return
        self.post_json(
            "/api/v1/transport/arrivals/",
            "employer confirm arrival (API)",
            {"placement": int(pk), "result": "pass"},
            extra={"Idempotency-Key": uuid.uuid4().hex},
            ok=(201,),
        )


class ApiClient(FastHttpUser):
    """A province's system: client credentials, then the match results page after page."""

    weight = 2
    wait_time = THINK

    def on_start(self) -> None:
        clients = [json.loads(c) for c in REDIS.lrange(KEY_CLIENTS, 0, -1)]
        if not clients:
            raise StopUser()
        client = clients[next(_client_turn) % len(clients)]
        self.province = client["province"]
        with self.client.post(
            "/o/token/",
            name="API client token",
            data=f"grant_type=client_credentials&client_id={client['client_id']}"
            f"&client_secret={client['client_secret']}",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Forwarded-Proto": "https",
            },
            catch_response=True,
        ) as r:
            if r.status_code != 200:
                r.failure(f"token refused: status {r.status_code}")
                raise StopUser()
            self.token = r.json()["access_token"]
        self.next_url: str | None = None
        self.pages = 0
        user_ready(self.environment)

    @task
    def matches(self) -> None:
        url = self.next_url or "/api/v1/matching/matches/?latest=true"
        with self.client.get(
            url,
            name="API client match results page",
            headers={"Authorization": f"Bearer {self.token}", "X-Forwarded-Proto": "https"},
            catch_response=True,
        ) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")
                self.next_url = None
                return
            body = r.json()
            if len(body["results"]) == 0 and self.pages == 0:
                r.failure("no match visible to the client")
            self.pages += 1
            following = body.get("next")
            if following and self.pages < MAX_PAGES:
                parts = urlsplit(following)
                self.next_url = f"{parts.path}?{parts.query}"
            else:
                self.next_url, self.pages = None, 0


class RawClient(FastHttpUser):
    """The same page from the minimal psycopg + JSON app, for the throughput comparison."""

    weight = 2
    wait_time = THINK  # run.py gives it the raw app's address with --host

    def on_start(self) -> None:
        clients = [json.loads(c) for c in REDIS.lrange(KEY_CLIENTS, 0, -1)]
        self.province = clients[next(_client_turn) % len(clients)]["province"] if clients else "33"
        self.after: int | None = None
        self.pages = 0
        user_ready(self.environment)

    @task
    def matches(self) -> None:
        url = f"/matches?province={self.province}"
        if self.after is not None:
            url += f"&after={self.after}"
        with self.client.get(url, name="raw match results page", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")
                self.after = None
                return
            body = r.json()
            self.pages += 1
            if body.get("next_after") is not None and self.pages < MAX_PAGES:
                self.after = body["next_after"]
            else:
                self.after, self.pages = None, 0


def _today():
    from datetime import datetime, timezone

    return datetime.now(timezone(timedelta(hours=8))).date()
