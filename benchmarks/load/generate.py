"""Fill the load-test database: 1,000,000 applicants and a finished run of 1,000,000 matches.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/laborlink_load \
        .venv/bin/python benchmarks/load/generate.py [--applicants 1000000] [--reset]

Writes, with COPY (psycopg 3 `cursor.copy`):
- applicants of four exporting provinces (Sichuan, Guizhou, Yunnan, Henan), stored as
  registration does: valid ID numbers (GB 11643 check digit) and unique phones, encrypted
  with `laborlink.personal_data` under the dataset's own key, keyed digests, masks;
- one approved and countersigned whitelist entry per applicant for one of three importing
  provinces (Zhejiang, Jiangsu, Guangdong), and a pending entry for another province for the
  applicants the bureau officers approve during the test;
- open postings (about one per 33 applicants) of employers in the importing provinces, each
  targeted at the four exporting provinces;
- a finished nightly MatchRun proposing every applicant to one posting (score breakdowns as
  the engine writes them);
- for the writes: draft postings of the HR officers' employers (to publish), and workers who
  boarded a chartered bus that has arrived (placement departed, booking boarded) on postings
  of the employer accounts (to confirm the arrival); each such posting has exactly as many
  positions as workers on their way, so that the test fills it to the last position;
- users of every role with one known password, and two OAuth2 client-credentials
  applications (Zhejiang and Sichuan bureaus).

Ids of the COPY tables are given explicitly (the tables are empty), then the sequences are
moved past them. Foreign keys are not re-checked row by row during the COPY
(`session_replication_role = replica`, as pg_restore does); run.py checks the invariants.
Re-runnable: if the dataset is there it is left alone; --reset truncates every table
(provinces, content types and permissions kept) and writes it anew.
Prints the time each part took and the database size.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    API_CLIENT_PROVINCES,
    DEFAULT_DATABASE_URL,
    EXPORTING,
    IMPORTING,
    database_name,
    load_secrets,
    save_secrets,
)

MARKER = "load-test"
# Real county codes (GB/T 2260) of each exporting province, for the ID numbers.
COUNTIES = {
    "51": ("510104", "510105", "510106", "510107", "510108", "510112", "510113", "510114"),
    "52": ("520102", "520103", "520111", "520112", "520113", "520115", "520121", "520122"),
    "53": ("530102", "530103", "530111", "530112", "530113", "530114", "530115", "530124"),
    "41": ("410102", "410103", "410104", "410105", "410106", "410108", "410122", "410181"),
}
CITIES = {"33": ("杭州", "宁波", "温州", "嘉兴"), "32": ("苏州", "无锡"), "44": ("东莞", "佛山")}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国玉梅红云飞鹏辉波宁"
OCCUPATIONS = (
    "assembler",
    "electronics_assembler",
    "machine_operator",
    "welder",
    "sewing_operator",
    "food_processing",
    "packer",
    "warehouse",
    "logistics_sorter",
    "construction",
)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def id_number(i: int) -> str:
    """The i-th synthetic, valid and unique ID number of its home province."""
    home = EXPORTING[i % len(EXPORTING)]
    j = i // len(EXPORTING)
    counties = COUNTIES[home]
    region = counties[j % len(counties)]
    k = j // len(counties)
    birth = date(1966, 1, 1) + timedelta(days=k % 14600)  # born 1966–2005
    sequence = k // 14600 * 2 + (i % 2)  # odd for men
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    total = sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True))
    return body + ID_CHECK[total % 11]


def _copy(cursor, table: str, columns: tuple[str, ...], rows) -> int:
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


class Timer:
    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.parts: list[tuple[str, float, int]] = []
        self._last = self.start

    def mark(self, name: str, rows: int = 0) -> None:
        now = time.perf_counter()
        self.parts.append((name, now - self._last, rows))
        print(f"  {name:<28} {rows:>10,} rows {now - self._last:8.1f} s", flush=True)
        self._last = now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applicants", type=int, default=1_000_000)
    parser.add_argument("--applicants-per-posting", type=int, default=33)
    parser.add_argument("--hr-officers", type=int, default=100)
    parser.add_argument("--drafts-per-officer", type=int, default=200)
    parser.add_argument("--bureau-officers", type=int, default=10, help="per exporting province")
    parser.add_argument("--pending", type=int, default=20_000, help="entries to approve")
    parser.add_argument("--employers", type=int, default=40, help="employer accounts (arrivals)")
    parser.add_argument("--arrivals", type=int, default=20_000, help="workers to confirm")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reset", action="store_true", help="truncate and write anew")
    parser.add_argument("--force", action="store_true", help="write into any database")
    options = parser.parse_args()
    if options.pending + options.arrivals > options.applicants:
        parser.error("--pending + --arrivals must not exceed --applicants")

    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "laborlink.settings")
    database = database_name()
    if "load" not in database and not options.force:
        parser.error(f"refusing to write into {database!r}: name a *load* database or --force")
    state = load_secrets(create=True)
    os.environ["DATA_ENCRYPTION_KEY"] = state["data_encryption_key"]
    import django

    django.setup()
    from django.db import connection

    from laborlink.models import User

    if User.objects.filter(username=f"{MARKER}-admin").exists() and not options.reset:
        print("The load-test dataset is already there (use --reset to write it anew).")
        report_size(connection)
        return
    timer = Timer()
    if options.reset or User.objects.exists():
        truncate(connection)
        timer.mark("truncate")
    Generator(options, state, timer).run()
    print(f"  {'total':<28} {'':>10}      {time.perf_counter() - timer.start:8.1f} s")
    report_size(connection)


def truncate(connection) -> None:
    keep = {"laborlink_province", "django_migrations", "django_content_type", "auth_permission"}
    tables = list(connection.introspection.django_table_names(only_existing=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            " AND tablename = ANY(%s)",
            [tables],
        )
        existing = sorted(row[0] for row in cursor.fetchall() if row[0] not in keep)
        cursor.execute(f"TRUNCATE {', '.join(existing)} RESTART IDENTITY CASCADE")


def report_size(connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
        counts = {}
        for table in (
            "recruitment_applicant",
            "recruitment_whitelistentry",
            "recruitment_jobposting",
            "matching_match",
            "recruitment_placement",
            "transport_booking",
        ):
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (fixed names)
            counts[table] = cursor.fetchone()[0]
    print("database size:", size)
    for table, count in counts.items():
        print(f"  {table:<28} {count:>10,}")


class Generator:
    def __init__(self, options, state: dict, timer: Timer) -> None:
        self.o = options
        self.state = state
        self.timer = timer
        self.rng = random.Random(options.seed)  # noqa: S311 (synthetic data)

    def run(self) -> None:
        from django.contrib.auth.hashers import make_password
        from django.db import connection, transaction
        from django.utils import timezone

        self.today = timezone.localdate()
        self.now = timezone.now()
        # One hash for every account: hashing a password takes a third of a second.
        self.password_hash = make_password(self.state["password"])
        with transaction.atomic():
            self.reference_rows()
            self.timer.mark("organisations and users")
            with connection.cursor() as django_cursor:
                cursor = django_cursor.cursor  # psycopg 3
                cursor.execute("SET LOCAL session_replication_role = replica")
                self.postings(cursor)
                self.applicants(cursor)
                self.whitelist(cursor)
                self.arrivals(cursor)
                self.matches(cursor)
                for table in (
                    "recruitment_jobposting",
                    "recruitment_jobposting_target_provinces",
                    "recruitment_applicant",
                    "recruitment_whitelistentry",
                    "recruitment_placement",
                    "transport_trip",
                    "transport_booking",
                    "matching_match",
                ):
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608
                        f" (SELECT coalesce(max(id), 1) FROM {table}))"
                    )
        save_secrets(self.state)
        with connection.cursor() as cursor:
            for table in (
                "recruitment_applicant",
                "recruitment_whitelistentry",
                "recruitment_jobposting",
                "recruitment_jobposting_target_provinces",
                "recruitment_placement",
                "transport_trip",
                "transport_booking",
                "matching_match",
            ):
                cursor.execute(f"VACUUM ANALYZE {table}")
            cursor.execute("ANALYZE")  # the small tables too (organisations, users)
        self.timer.mark("vacuum analyze")

    # --- organisations, users, agreements, API clients (ORM: a few hundred rows) -----------

    def reference_rows(self) -> None:
        from stdnum.cn import uscc

        from laborlink.models import CooperationAgreement, Organization, Province, User
        from laborlink.services import api_client_create
        from matching.models import MatchRun
        from matching.scoring import DEFAULT_WEIGHTS

        o = self.o
        names = dict(Province.objects.values_list("code", "name_zh"))
        self.bureaus = {
            code: Organization.objects.create(
                name=f"{names[code]}人力资源和社会保障厅",
                kind=Organization.Kind.BUREAU,
                province_id=code,
            )
            for code in (*EXPORTING, *IMPORTING)
        }
        health = Organization.objects.create(
            name="四川省卫生健康委员会",
            kind=Organization.Kind.HEALTH_AUTHORITY,
            province_id="51",
        )
        platform = Organization.objects.create(
            name="LaborLink", kind=Organization.Kind.PLATFORM, province_id="11"
        )
        n_general = max(len(IMPORTING), o.applicants // o.applicants_per_posting // 50)
        total = o.hr_officers + o.employers + n_general
        employers = []
        for j in range(total):
            province = IMPORTING[j % len(IMPORTING)]
            body = f"91{province}0100{j:09d}"[:17]
            employers.append(
                Organization(
                    name=f"{CITIES[province][j % len(CITIES[province])]}负载测试制造{j}有限公司",
                    kind=Organization.Kind.EMPLOYER,
                    province_id=province,
                    city=CITIES[province][j % len(CITIES[province])],
                    credit_code=body + uscc.calc_check_digit(body),
                )
            )
        employers = Organization.objects.bulk_create(employers)
        self.hr_employers = employers[: o.hr_officers]
        self.arrival_employers = employers[o.hr_officers : o.hr_officers + o.employers]
        self.general_employers = employers[o.hr_officers + o.employers :]

        def users(rows: list[tuple[str, str, Organization | None, str]]) -> list[User]:
            return User.objects.bulk_create(
                User(
                    username=username,
                    role=role,
                    organization=org,
                    full_name=full_name,
                    password=self.password_hash,
                    is_staff=role == User.Role.PLATFORM_ADMIN,
                    is_superuser=role == User.Role.PLATFORM_ADMIN,
                )
                for username, role, org, full_name in rows
            )

        hr = users(
            [
                (f"{MARKER}-hr-{k}", User.Role.HR_OFFICER, org, f"招聘专员{k}")
                for k, org in enumerate(self.hr_employers)
            ]
        )
        self.hr_users = dict(zip([e.pk for e in self.hr_employers], hr, strict=True))
        emp = users(
            [
                (f"{MARKER}-employer-{k}", User.Role.HR_OFFICER, org, f"人事经理{k}")
                for k, org in enumerate(self.arrival_employers)
            ]
        )
        self.employer_users = dict(zip([e.pk for e in self.arrival_employers], emp, strict=True))
        general_hr = users(
            [
                (f"{MARKER}-company-{k}", User.Role.HR_OFFICER, org, "")
                for k, org in enumerate(self.general_employers)
            ]
        )
        self.general_users = {
            e.pk: u for e, u in zip(self.general_employers, general_hr, strict=True)
        }
        officers = users(
            [
                (f"{MARKER}-bureau-{code}-{k}", User.Role.BUREAU_OFFICER, self.bureaus[code], "")
                for code in (*EXPORTING, *IMPORTING)
                for k in range(o.bureau_officers)
            ]
        )
        self.officers: dict[str, list[User]] = {}
        for user in officers:
            self.officers.setdefault(user.organization.province_id, []).append(user)
        users(
            [
                (f"{MARKER}-health-0", User.Role.HEALTH_OFFICER, health, "检疫医师"),
                (f"{MARKER}-admin", User.Role.PLATFORM_ADMIN, platform, "平台管理员"),
            ]
        )
        for importing in IMPORTING:
            for exporting in EXPORTING:
                CooperationAgreement.objects.create(
                    title=f"{names[importing]}—{names[exporting]}劳务协作协议",
                    importing_province_id=importing,
                    exporting_province_id=exporting,
                    signed_on=self.today - timedelta(days=400),
                    valid_from=self.today - timedelta(days=365),
                    valid_until=self.today + timedelta(days=3 * 365),
                    status=CooperationAgreement.Status.ACTIVE,
                )
        self.state["clients"] = []
        for code in API_CLIENT_PROVINCES:
            _machine, application, secret = api_client_create(
                actor=None, bureau=self.bureaus[code], name=f"{names[code]}就业信息系统"
            )
            self.state["clients"].append(
                {"client_id": application.client_id, "client_secret": secret, "province": code}
            )
        self.run_row = MatchRun.objects.create(
            trigger=MatchRun.Trigger.NIGHTLY,
            algorithm=MatchRun.Algorithm.OPTIMAL,
            weights=dict(DEFAULT_WEIGHTS),
            run_date=self.today,
            requested_at=self.now - timedelta(hours=1),
            started_at=self.now - timedelta(hours=1),
            finished_at=self.now - timedelta(minutes=40),
            status=MatchRun.Status.DONE,
            attempts=1,
            matched_count=o.applicants,
            counts={"applicants": o.applicants},
        )

    # --- postings -----------------------------------------------------------------------------

    POSTING_COLUMNS = (
        "id", "employer_id", "province_id", "created_by_id", "title", "description",
        "occupation", "positions", "positions_filled", "wage_min", "wage_max", "city", "county",
        "workplace", "start_date", "deadline", "urgency", "caring_job", "housing_provided",
        "housing_subsidy", "transport_subsidy", "age_min", "age_max", "contact_name",
        "contact_phone", "status", "published_at", "created_at", "updated_at",
    )  # fmt: skip

    def _posting_row(self, pk, employer, user_id, j, positions, status, wage):
        published = self.now - timedelta(days=3) if status == "open" else None
        occupation = OCCUPATIONS[j % len(OCCUPATIONS)]
        return (
            pk, employer.pk, employer.province_id, user_id, f"{employer.city}急招{j}号岗位",
            "包吃住，长期稳定，按月足额发薪。", occupation, positions, 0, wage - 1000, wage,
            employer.city, "", "", self.today + timedelta(days=90), self.today + timedelta(days=60),
            ("normal", "urgent", "critical")[j % 10 // 6 + (j % 10 == 9)], j % 7 == 0, j % 2 == 0,
            0, 300 * (j % 3), 18, 55, "", "", status, published,
            self.now - timedelta(days=5), self.now - timedelta(days=3),
        )  # fmt: skip

    def postings(self, cursor) -> None:
        o = self.o
        n_open = max(len(IMPORTING), o.applicants // o.applicants_per_posting)
        pk = 0
        self.open_by_province: dict[str, list[int]] = {p: [] for p in IMPORTING}
        self.posting_province: dict[int, str] = {}
        rows = []
        for j in range(n_open):
            employer = self.general_employers[j % len(self.general_employers)]
            pk += 1
            self.open_by_province[employer.province_id].append(pk)
            self.posting_province[pk] = employer.province_id
            rows.append([pk, employer, self.general_users[employer.pk].pk, j, "open"])
        self.drafts: dict[int, list[int]] = {}
        for employer in self.hr_employers:
            user = self.hr_users[employer.pk]
            for d in range(o.drafts_per_officer):
                pk += 1
                self.drafts.setdefault(user.pk, []).append(pk)
                rows.append([pk, employer, user.pk, d, "draft"])
        # postings of the employer accounts: workers on their way (positions set below)
        self.arrival_postings: dict[str, list[int]] = {p: [] for p in IMPORTING}
        per_employer = 10
        for employer in self.arrival_employers:
            for d in range(per_employer):
                pk += 1
                self.arrival_postings[employer.province_id].append(pk)
                self.posting_province[pk] = employer.province_id
                rows.append([pk, employer, self.employer_users[employer.pk].pk, d, "open"])
        self.posting_rows = rows
        self.posting_employer = {row[0]: row[1] for row in rows}

    def write_postings(self, cursor, positions: dict[int, int]) -> None:
        rng = self.rng
        count = _copy(
            cursor,
            "recruitment_jobposting",
            self.POSTING_COLUMNS,
            (
                self._posting_row(
                    pk,
                    employer,
                    user_id,
                    j,
                    positions.get(pk, 0) + (0 if pk in self.arrival_set else rng.randint(1, 10)),
                    status,
                    rng.randrange(4500, 9001, 100),
                )
                for pk, employer, user_id, j, status in self.posting_rows
            ),
        )
        targets = _copy(
            cursor,
            "recruitment_jobposting_target_provinces",
            ("jobposting_id", "province_id"),
            ((row[0], code) for row in self.posting_rows for code in EXPORTING),
        )
        self.timer.mark("postings (+ targets)", count + targets)

    # --- applicants ---------------------------------------------------------------------------

    def applicants(self, cursor) -> None:
        from laborlink import personal_data
        from recruitment.services import (
            NATIONAL_ID_CONTEXT,
            PHONE_CONTEXT,
            applicant_index,
            phone_index,
        )

        o, rng, now = self.o, self.rng, self.now
        registered_by = {code: self.officers[code][0].pk for code in EXPORTING}
        columns = (
            "id", "registering_bureau_id", "registered_by_id", "home_province_id",
            "national_id_encrypted", "national_id_hash", "national_id_masked", "region_code",
            "region_known", "name", "sex", "birth_date", "phone_encrypted", "phone_hash",
            "phone_masked", "skills", "preferred_provinces", "minimum_wage", "available_from",
            "key_groups", "consent_cross_province", "consent_recorded_at", "notes",
            "created_at", "updated_at",
        )  # fmt: skip
        encrypt = personal_data.encrypt
        mask_id, mask_phone = personal_data.mask_national_id, personal_data.mask_phone

        def rows():
            for i in range(o.applicants):
                number = id_number(i)
                home = number[:2]
                phone = f"1{(38, 39, 58, 59, 87)[i % 5]}{i:08d}"
                registered = now - timedelta(days=i % 400, seconds=i % 86400)
                yield (
                    i + 1, self.bureaus[home].pk, registered_by[home], home,
                    encrypt(number, context=NATIONAL_ID_CONTEXT), applicant_index(number),
                    mask_id(number), number[:6], True,
                    SURNAMES[i % len(SURNAMES)] + GIVEN[i // 7 % len(GIVEN)]
                    + ("" if i % 3 else GIVEN[i // 11 % len(GIVEN)]),
                    "male" if int(number[16]) % 2 else "female",
                    date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
                    encrypt(phone, context=PHONE_CONTEXT), phone_index(phone), mask_phone(phone),
                    [OCCUPATIONS[i % len(OCCUPATIONS)]], [IMPORTING[i // 4 % 3]],
                    rng.randrange(3000, 6001, 500), self.today - timedelta(days=i % 120),
                    ["lifted_out_of_poverty"] if i % 9 == 0 else [], True, registered, "",
                    registered, registered,
                )  # fmt: skip

        self.timer.mark("(prepare)")
        count = _copy(cursor, "recruitment_applicant", columns, rows())
        self.timer.mark("applicants", count)

    # --- whitelist: approved for one province, pending for another (the approvals) ------------

    def whitelist(self, cursor) -> None:
        o, now = self.o, self.now
        expires = self.today + timedelta(days=300)
        decided = now - timedelta(days=2)
        columns = (
            "id", "applicant_id", "importing_province_id", "status", "expires_on",
            "decided_by_id", "decided_at", "reason", "countersign", "countersigned_by_id",
            "countersigned_at", "countersign_reason", "created_at", "updated_at",
        )  # fmt: skip
        # the pending pool: the last applicants, so their ids spread over every province
        self.pending_from = o.applicants - o.pending

        def rows():
            pk = 0
            for i in range(o.applicants):
                home, importing = EXPORTING[i % 4], IMPORTING[i // 4 % 3]
                pk += 1
                yield (
                    pk, i + 1, importing, "approved", expires,
                    self.officers[home][i % o.bureau_officers].pk, decided, "", "countersigned",
                    self.officers[importing][i % o.bureau_officers].pk, decided, "",
                    decided, decided,
                )  # fmt: skip
                if i >= self.pending_from:
                    pk += 1
                    other = IMPORTING[(i // 4 + 1) % 3]
                    yield (
                        pk, i + 1, other, "pending", None, None, None, "", "awaiting", None,
                        None, "", now - timedelta(hours=i % 48), now - timedelta(hours=i % 48),
                    )  # fmt: skip

        count = _copy(cursor, "recruitment_whitelistentry", columns, rows())
        self.timer.mark("whitelist entries", count)

    # --- arrivals: departed placements, arrived trips, boarded bookings -----------------------

    def arrivals(self, cursor) -> None:
        o, now = self.o, self.now
        # the first --arrivals applicants travel; each goes to an employer account's posting in
        # the province it is whitelisted for
        self.placement_of: dict[int, tuple[int, int]] = {}  # applicant index → (placement, posting)
        groups: dict[tuple[str, str], list[int]] = {}
        counts: dict[int, int] = {}
        placements = []
        for i in range(o.arrivals):
            home, importing = EXPORTING[i % 4], IMPORTING[i // 4 % 3]
            postings = self.arrival_postings[importing]
            posting = postings[i // 12 % len(postings)]
            pk = i + 1
            self.placement_of[i] = (pk, posting)
            counts[posting] = counts.get(posting, 0) + 1
            placements.append((pk, i + 1, posting))
            groups.setdefault((home, importing), []).append(pk)
        self.arrival_counts = counts
        self.arrival_set = set(counts)
        departed_at = now - timedelta(hours=30)
        count = _copy(
            cursor,
            "recruitment_placement",
            (
                "id", "applicant_id", "posting_id", "status", "left_reason", "left_note",
                "created_at", "updated_at",
            ),
            (
                (pk, applicant, posting, "departed", "", "", now - timedelta(days=4), departed_at)
                for pk, applicant, posting in placements
            ),
        )  # fmt: skip
        events = _copy(
            cursor,
            "recruitment_placementevent",
            ("placement_id", "from_status", "to_status", "actor_id", "at", "reason"),
            (
                (pk, frm, to, None, at, "")
                for pk, _a, _p in placements
                for frm, to, at in (
                    ("", "accepted", now - timedelta(days=4)),
                    ("accepted", "booked", now - timedelta(days=3)),
                    ("booked", "departed", departed_at),
                )
            ),
        )
        trip_columns = (
            "id", "organiser_id", "created_by_id", "mode", "operator", "vehicle_number",
            "origin_province_id", "origin_city", "pickup_point", "destination_province_id",
            "destination_city", "destination_point", "departure_at", "arrival_expected_at",
            "seats", "contact_name", "contact_phone", "notes", "status", "boarding_started_at",
            "departed_at", "arrived_at", "cancel_reason", "created_at", "updated_at",
        )  # fmt: skip
        booking_columns = (
            "id", "trip_id", "placement_id", "seat", "group_label", "status", "created_by_id",
            "created_at", "updated_at", "checked_at", "checked_by_id", "certificate_number",
            "check_outcome", "refusal_reason", "cancel_reason",
        )  # fmt: skip
        seats = 50
        trips, bookings = [], []
        trip_id = 0
        for (home, importing), members in sorted(groups.items()):
            officer = self.officers[home][0].pk
            for start in range(0, len(members), seats):
                trip_id += 1
                chunk = members[start : start + seats]
                trips.append(
                    (
                        trip_id, self.bureaus[home].pk, officer, "bus", "川运集团",
                        f"川A{trip_id:05d}", home, "成都", "火车北站广场", importing,
                        CITIES[importing][0], "工业园区", departed_at,
                        departed_at + timedelta(hours=26), seats, "带队干部", "028-00000000",
                        "", "arrived", departed_at - timedelta(hours=1), departed_at,
                        now - timedelta(hours=4), "", now - timedelta(days=3),
                        now - timedelta(hours=4),
                    )
                )  # fmt: skip
                for seat, placement in enumerate(chunk, start=1):
                    bookings.append(
                        (
                            placement, trip_id, placement, seat, "", "boarded", officer,
                            now - timedelta(days=3), departed_at, departed_at, officer,
                            f"HC{placement:010d}", "valid", "", "",
                        )
                    )  # fmt: skip
        count += events
        count += _copy(cursor, "transport_trip", trip_columns, trips)
        count += _copy(cursor, "transport_booking", booking_columns, bookings)
        self.timer.mark("placements, trips, bookings", count)

    # --- the run's matches --------------------------------------------------------------------

    def matches(self, cursor) -> None:
        import json

        o, rng, _now = self.o, self.rng, self.now
        positions: dict[int, int] = dict(self.arrival_counts)
        columns = (
            "id", "run_id", "applicant_id", "posting_id", "exporting_province_id",
            "importing_province_id", "score", "breakdown", "status", "offer_nonce",
            "created_at", "updated_at", "placement_id", "offered_at", "expires_at",
        )  # fmt: skip
        created = self.run_row.finished_at

        def rows():
            for i in range(o.applicants):
                home, importing = EXPORTING[i % 4], IMPORTING[i // 4 % 3]
                placed = self.placement_of.get(i)
                if placed:
                    placement, posting = placed
                    status = "accepted"
                else:
                    choices = self.open_by_province[importing]
                    posting = choices[(i * 7919) % len(choices)]
                    positions[posting] = positions.get(posting, 0) + 1
                    placement, status = None, "proposed"
                parts = {
                    "skill": 30000,
                    "urgency": (0, 5000, 10000)[i % 3],
                    "wage": rng.randrange(0, 20001, 50),
                    "waiting": min(15000, (i % 120) * 125),
                    "key_group": 15000 if i % 9 == 0 else 0,
                    "preferred_province": 10000,
                }
                yield (
                    i + 1, self.run_row.pk, i + 1, posting, home, importing,
                    sum(parts.values()), json.dumps(parts, separators=(",", ":")), status,
                    f"{i:032x}", created, created, placement, created,
                    created + timedelta(hours=72),
                )  # fmt: skip

        count = _copy(cursor, "matching_match", columns, rows())
        self.timer.mark("matches", count)
        self.write_postings(cursor, positions)


if __name__ == "__main__":
    main()
