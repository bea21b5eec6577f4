"""The baseline for the match-results endpoint: one psycopg query and json.dumps, nothing else.

    gunicorn --chdir benchmarks/load raw_wsgi:application --workers 5 --bind 127.0.0.1:8099

GET /matches?province=33[&after=<id>] answers the page an API client of that province gets
from /api/v1/matching/matches/?latest=true: the latest finished run's matches whose importing
province is the client's or whose applicant was registered by a bureau of the client's
province, 200 per page in id order after the cursor, with the same fields (applicant and
posting summaries, provinces, score, breakdown, status, times). It leaves out what the API
adds in Python (the explanation sentences built from the breakdown), authentication,
throttling and the framework. Served by its own gunicorn with the API's worker count
(run.py), never mounted in the application.
"""

from __future__ import annotations

import json
import os
from urllib.parse import parse_qs

import psycopg

PAGE_SIZE = 200
# The page size is written into the statement, as the ORM writes it: psycopg prepares the
# statement after five runs, and a generic plan with a LIMIT parameter does not know that
# the page is small (the Sichuan client's pages took about three times as long).
QUERY = """
SELECT m.id, m.run_id, m.applicant_id, a.name, a.national_id_masked, a.home_province_id,
       m.posting_id, p.title, e.name, p.city, m.exporting_province_id,
       m.importing_province_id, m.score, m.breakdown, m.status, m.created_at, m.updated_at
  FROM matching_match m
  JOIN recruitment_applicant a ON a.id = m.applicant_id
  JOIN laborlink_organization b ON b.id = a.registering_bureau_id
  JOIN recruitment_jobposting p ON p.id = m.posting_id
  JOIN laborlink_organization e ON e.id = p.employer_id
 WHERE m.run_id = (SELECT id FROM matching_matchrun WHERE status = 'done'
                    ORDER BY finished_at DESC, id DESC LIMIT 1)
   AND (m.importing_province_id = %(province)s OR b.province_id = %(province)s)
   AND m.id > %(after)s
 ORDER BY m.id
 LIMIT 200
"""

_connection: psycopg.Connection | None = None


def _cursor() -> psycopg.Cursor:
    global _connection
    if _connection is None or _connection.closed:
        url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/laborlink_load")
        _connection = psycopg.connect(url, autocommit=True)
    return _connection.cursor()


def application(environ, start_response):
    if environ.get("PATH_INFO") != "/matches":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
    query = parse_qs(environ.get("QUERY_STRING", ""))
    province = query.get("province", ["33"])[0][:2]
    try:
        after = int(query.get("after", ["0"])[0])
    except ValueError:
        after = 0
    with _cursor() as cursor:
        cursor.execute(QUERY, {"province": province, "after": after})
        rows = cursor.fetchall()
    results = [
        {
            "id": r[0],
            "run": r[1],
            "applicant": {
                "id": r[2],
                "name": r[3],
                "national_id_masked": r[4],
                "home_province": r[5],
            },
            "posting": {"id": r[6], "title": r[7], "employer": r[8], "city": r[9]},
            "exporting_province": r[10],
            "importing_province": r[11],
            "score": r[12] / 1000,
            "breakdown": r[13],
            "status": r[14],
            "created_at": r[15].isoformat(),
            "updated_at": r[16].isoformat(),
        }
        for r in rows
    ]
    body = json.dumps(
        {"results": results, "next_after": rows[-1][0] if len(rows) == PAGE_SIZE else None},
        ensure_ascii=False,
    ).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]
