"""Benchmark of the applicant import against a raw baseline measured in the same run.

    python manage.py benchmark_import --rows 100000 [--bad-ratio 0.01] [--keep] [--seed 7]

N realistic Sichuan rows (real county codes from python-stdnum's table, birth years
1965–2006, common surnames, mobile numbers, skills …) are written to a CSV file, some of
them bad. Each phase then runs in a fresh child process (spawn), which measures its own wall
time and peak RSS (`ru_maxrss`):

- dry run: `import_check` of the whole file (reports the bad rows);
- check of the corrected file (bad rows removed), to queue it;
- import: `import_run` of the corrected file, the code path of the Celery task;
- raw baseline: the same good rows read, encrypted and hashed with the same personal_data
  functions and written with COPY into a temporary table shaped like recruitment_applicant,
  with no validation.

The benchmark bureau, its officer and its applicants are throwaway rows of the database in
use (never run it against production); the applicants are removed afterwards unless --keep.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import platform
import random
import re
import resource
import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections, transaction
from django.utils import timezone

BUREAU_NAME = "基准测试市人力资源和社会保障局（benchmark_import）"
OFFICER_USERNAME = "benchmark_import_officer"
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红兰玉凤春梅海波燕飞鹏辉林俊"
PHONE_PREFIXES = ("130", "131", "132", "135", "136", "138", "139", "150", "151", "152", "157")
PHONE_PREFIXES += ("158", "159", "166", "173", "177", "180", "182", "186", "187", "188", "199")
PROVINCES = ("浙江", "江苏", "广东", "福建", "上海")
NOTES = ("愿意倒班", "有叉车证", "夫妻同行", "需要住宿", "")
BAD_KINDS = ("checksum", "phone", "skill", "duplicate", "other_province", "age", "date")


def sichuan_counties() -> list[str]:
    """County-level codes of Sichuan in use today, from python-stdnum's GB/T 2260 table."""
    from stdnum import numdb

    sichuan = next(p for p in numdb.get("cn/loc").prefixes if p[1] == "51")
    codes = []
    for _length, low, high, props, _children in sichuan[4]:
        name = props.get("county", "")
        if low != high or low.endswith("00") or "市辖区" in name:
            continue
        if re.search(r"-\d{4}\]", name):  # abolished ("[-2010]崇文区")
            continue
        codes.append("51" + low)
    return codes


def id_number(region: str, birth: date, sequence: int) -> str:
    from stdnum.cn import ric

    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def _labels() -> tuple[list[str], list[str]]:
    from django.utils import translation

    from recruitment.imports import importable_name
    from recruitment.models import KeyGroup
    from recruitment.occupations import Occupation

    with translation.override("zh-hans"):
        skills = [importable_name(choice) for choice in Occupation]
        groups = [importable_name(choice) for choice in KeyGroup]
    return skills + list(Occupation.values), groups


def generate(path_all: Path, path_clean: Path, *, rows: int, bad_ratio: float, seed: int) -> dict:
    """Write the full file and the corrected one; return the count of bad rows by kind."""
    from recruitment.imports import COLUMNS

    rng = random.Random(seed)  # noqa: S311 -- test data, reproducible by seed
    counties = sichuan_counties()
    skills, groups = _labels()
    today = timezone.localdate()
    first_birth, last_birth = date(1965, 1, 1), date(2006, 6, 30)
    span = (last_birth - first_birth).days
    seen: set[str] = set()
    previous: list[str] = []
    bad: dict[str, int] = {}
    header = [h for _name, h in COLUMNS]
    with (
        path_all.open("w", encoding="utf-8-sig", newline="") as full,
        path_clean.open("w", encoding="utf-8-sig", newline="") as clean,
    ):
        writer_all, writer_clean = csv.writer(full), csv.writer(clean)
        writer_all.writerow(header)
        writer_clean.writerow(header)
        for _index in range(rows):
            while True:
                birth = first_birth + timedelta(days=rng.randrange(span))
                number = id_number(rng.choice(counties), birth, rng.randrange(1000))
                if number not in seen:
                    seen.add(number)
                    break
            name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))
            phone = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
            row = [
                name,
                number,
                phone,
                "、".join(rng.sample(skills, rng.choice((0, 1, 1, 2)))),
                "、".join(rng.sample(PROVINCES, rng.choice((0, 1, 2)))),
                str(rng.randrange(30, 90) * 100),
                (today + timedelta(days=rng.randrange(90))).isoformat(),
                rng.choice(groups) if rng.random() < 0.2 else "",
                "是" if rng.random() < 0.9 else "否",
                rng.choice(NOTES) if rng.random() < 0.1 else "",
            ]
            kind = rng.choice(BAD_KINDS) if rng.random() < bad_ratio else None
            if kind == "duplicate" and not previous:
                kind = "checksum"
            if kind == "checksum":
                row[1] = number[:17] + ("0" if number[17] != "0" else "1")
            elif kind == "phone":
                row[2] = phone[:7]
            elif kind == "skill":
                row[3] = "宇航员"
            elif kind == "duplicate":
                row[1] = rng.choice(previous)
            elif kind == "other_province":
                row[1] = id_number("520102", birth, rng.randrange(1000))
            elif kind == "age":
                row[1] = id_number(number[:6], date(2015, 5, 1), rng.randrange(1000))
            elif kind == "date":
                row[6] = "下个月"
            writer_all.writerow(row)
            if kind:
                bad[kind] = bad.get(kind, 0) + 1
            else:
                writer_clean.writerow(row)
                if len(previous) < 1000:
                    previous.append(number)
    return bad


# --- Phases, each run in a child process -------------------------------------------------


def _officer():
    from laborlink.models import User

    return User.objects.select_related("organization").get(username=OFFICER_USERNAME)


def phase_generate(spec: dict[str, Any]) -> dict[str, Any]:
    bad = generate(
        Path(spec["full"]),
        Path(spec["clean"]),
        rows=spec["rows"],
        bad_ratio=spec["ratio"],
        seed=spec["seed"],
    )
    return {"bad": bad}


def phase_check(path: str) -> dict[str, Any]:
    from django.core.files import File

    from recruitment.imports import import_check

    with open(path, "rb") as handle:
        batch = import_check(actor=_officer(), upload=File(handle, name=Path(path).name))
    return {
        "rows": batch.total_rows,
        "error_rows": batch.error_rows,
        "batch": batch.pk,
        "status": batch.status,
    }


def phase_import(batch_id: int) -> dict[str, Any]:
    from recruitment.imports import import_run

    batch = import_run(batch_id)
    if batch is None or batch.status != "done":
        raise RuntimeError(
            f"import did not finish: {batch and batch.status} {batch and batch.failure}"
        )
    return {"rows": batch.total_rows, "created": batch.created_count}


def phase_baseline(path: str) -> dict[str, Any]:
    """Read, encrypt and hash the rows and COPY them, with no validation at all."""
    from laborlink import personal_data
    from recruitment.services import (
        NATIONAL_ID_CONTEXT,
        PHONE_CONTEXT,
        applicant_index,
        phone_index,
    )

    officer = _officer()
    bureau_id = officer.organization_id
    now = timezone.now()
    columns = (
        "registering_bureau_id, registered_by_id, home_province_id, national_id_encrypted, "
        "national_id_hash, national_id_masked, region_code, region_known, name, sex, "
        "birth_date, phone_encrypted, phone_hash, phone_masked, skills, preferred_provinces, "
        "minimum_wage, available_from, key_groups, consent_cross_province, "
        "consent_recorded_at, notes, created_at, updated_at"
    )
    count = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE benchmark_raw_applicant "
            "(LIKE recruitment_applicant INCLUDING ALL) ON COMMIT DROP"
        )
        sql = f"COPY benchmark_raw_applicant ({columns}) FROM STDIN"
        with (
            open(path, encoding="utf-8-sig", newline="") as handle,
            cursor.cursor.copy(sql) as copy,
        ):
            reader = csv.reader(handle)
            next(reader)
            for (
                name,
                number,
                phone,
                skills,
                provinces,
                wage,
                available,
                groups,
                consent,
                notes,
            ) in reader:
                consented = consent == "是"
                copy.write_row(
                    (
                        bureau_id,
                        officer.pk,
                        number[:2],
                        personal_data.encrypt(number, context=NATIONAL_ID_CONTEXT),
                        applicant_index(number),
                        personal_data.mask_national_id(number),
                        number[:6],
                        True,
                        name,
                        "male" if int(number[16]) % 2 else "female",
                        f"{number[6:10]}-{number[10:12]}-{number[12:14]}",
                        personal_data.encrypt(phone, context=PHONE_CONTEXT),
                        phone_index(phone),
                        personal_data.mask_phone(phone),
                        skills.split("、") if skills else [],
                        provinces.split("、") if provinces else [],
                        int(wage),
                        available or None,
                        groups.split("、") if groups else [],
                        consented,
                        now if consented else None,
                        notes,
                        now,
                        now,
                    )
                )
                count += 1
    return {"rows": count}


def _run_child(target, argument, sender, database: dict[str, Any]) -> None:
    """Entry point of a spawned child: a fresh interpreter that sets Django up against the
    parent's database (the test database under pytest) and runs one phase."""
    import django
    from django.conf import settings

    django.setup()
    settings.DATABASES["default"].update(database)
    try:
        started = time.perf_counter()
        result = target(argument)
        result["seconds"] = time.perf_counter() - started
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        sender.send(("ok", result))
    except BaseException:
        sender.send(("error", traceback.format_exc()))
    finally:
        connections.close_all()


def in_child(target, argument) -> dict[str, Any]:
    """Run one phase in a fresh (spawned) process with its own database connection.

    Spawn rather than fork: a forked copy of a process with other threads (a live server, a
    browser driver under pytest) inherits their sockets and locks, and broke at random."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    database = {"NAME": connection.settings_dict["NAME"]}
    connections.close_all()
    process = context.Process(target=_run_child, args=(target, argument, sender, database))
    process.start()
    sender.close()
    try:
        kind, payload = receiver.recv()
    except EOFError as exc:
        raise CommandError(f"{target.__name__} died (exit code {process.exitcode})") from exc
    finally:
        process.join()
    if kind != "ok":
        raise CommandError(f"{target.__name__} failed:\n{payload}")
    return payload


@dataclass
class Line:
    phase: str
    rows: int
    seconds: float
    peak_rss_mb: float

    def cells(self) -> list[str]:
        rate = self.rows / self.seconds if self.seconds else 0
        return [
            self.phase,
            f"{self.rows:,}",
            f"{self.seconds:.2f}",
            f"{rate:,.0f}",
            f"{self.peak_rss_mb:.0f}",
        ]


class Command(BaseCommand):
    help = "Measure the applicant import against a raw COPY baseline in the same run."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--bad-ratio", type=float, default=0.01)
        parser.add_argument("--seed", type=int, default=20_260_222)
        parser.add_argument(
            "--keep", action="store_true", help="Keep the imported benchmark applicants."
        )

    def handle(self, *args, rows: int, bad_ratio: float, seed: int, keep: bool, **options):
        from recruitment.imports import MAX_ROWS

        if not 1 <= rows <= MAX_ROWS:
            raise CommandError(f"--rows must be from 1 to {MAX_ROWS}.")
        if not 0 <= bad_ratio < 1:
            raise CommandError("--bad-ratio must be at least 0 and below 1.")
        bureau = self.prepare()
        workdir = Path(tempfile.mkdtemp(prefix="laborlink-benchmark-"))
        try:
            lines, facts = self.measure(workdir, rows=rows, bad_ratio=bad_ratio, seed=seed)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            if not keep:
                self.clean_up(bureau)
        self.report(lines, facts, rows=rows)

    def prepare(self):
        """The throwaway bureau and officer; leftovers of an earlier run removed."""
        from laborlink.models import Organization, Province, User

        bureau, _created = Organization.objects.get_or_create(
            name=BUREAU_NAME,
            kind=Organization.Kind.BUREAU,
            defaults={
                "level": Organization.Level.CITY,
                "province": Province.objects.get(code="51"),
                "city": "基准测试市",
            },
        )
        officer, created = User.objects.get_or_create(
            username=OFFICER_USERNAME,
            defaults={"role": User.Role.BUREAU_OFFICER, "organization": bureau},
        )
        if created:
            officer.set_unusable_password()
            officer.save(update_fields=["password"])
        self.clean_up(bureau)
        return bureau

    def clean_up(self, bureau) -> None:
        from recruitment.models import ImportBatch

        with transaction.atomic(), connection.cursor() as cursor:
            # Raw SQL: these rows have nothing pointing at them, and the ORM's delete would
            # load every one of them first.
            cursor.execute(
                "DELETE FROM recruitment_applicant WHERE registering_bureau_id = %s", [bureau.pk]
            )
            ImportBatch.objects.filter(bureau=bureau).delete()
        if connection.in_atomic_block:
            return
        with connection.cursor() as cursor:
            # Without it the next run inserts into an index bloated by these deletions and
            # measures that instead of the import.
            cursor.execute("VACUUM ANALYZE recruitment_applicant")

    def measure(self, workdir: Path, *, rows: int, bad_ratio: float, seed: int):
        from recruitment.imports import import_start

        full, clean = workdir / "applicants-full.csv", workdir / "applicants-corrected.csv"
        started = time.perf_counter()
        bad = in_child(
            phase_generate,
            {
                "full": str(full),
                "clean": str(clean),
                "rows": rows,
                "ratio": bad_ratio,
                "seed": seed,
            },
        )["bad"]
        generated = time.perf_counter() - started
        good_rows = rows - sum(bad.values())
        self.stdout.write(
            f"Generated {rows:,} rows ({sum(bad.values()):,} bad: "
            f"{', '.join(f'{k} {v}' for k, v in sorted(bad.items())) or 'none'}) "
            f"in {generated:.1f} s; file {full.stat().st_size / 1e6:.1f} MB."
        )
        parent_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        dry = in_child(phase_check, str(full))
        if dry["rows"] != rows or dry["error_rows"] != sum(bad.values()):
            raise CommandError(
                f"dry run found {dry['error_rows']} bad rows, expected {sum(bad.values())}"
            )
        corrected = in_child(phase_check, str(clean))
        if corrected["status"] != "checked":
            raise CommandError(f"corrected file did not pass its check: {corrected}")
        import_start(actor=_officer(), batch=corrected["batch"], enqueue=False)
        imported = in_child(phase_import, corrected["batch"])
        if imported["created"] != good_rows:
            raise CommandError(f"imported {imported['created']} rows, expected {good_rows}")
        baseline = in_child(phase_baseline, str(clean))

        lines = [
            Line("dry run, full file", dry["rows"], dry["seconds"], dry["peak_rss_mb"]),
            Line(
                "dry run, corrected",
                corrected["rows"],
                corrected["seconds"],
                corrected["peak_rss_mb"],
            ),
            Line(
                "import (import_run)",
                imported["rows"],
                imported["seconds"],
                imported["peak_rss_mb"],
            ),
            Line(
                "raw baseline (COPY)",
                baseline["rows"],
                baseline["seconds"],
                baseline["peak_rss_mb"],
            ),
        ]
        facts = {
            "bad_rows": dry["error_rows"],
            "ratio": imported["seconds"] / baseline["seconds"],
            "end_to_end": (corrected["seconds"] + imported["seconds"]) / baseline["seconds"],
            "parent_rss_mb": parent_rss,
            "peak_rss_mb": max(line.peak_rss_mb for line in lines),
        }
        return lines, facts

    def report(self, lines: list[Line], facts: dict[str, Any], *, rows: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server = cursor.fetchone()[0]
        self.stdout.write(
            f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"PostgreSQL {server}, {platform.system()} {platform.machine()}"
        )
        header = ["phase", "rows", "seconds", "rows/s", "peak RSS MB"]
        table = [header, *(line.cells() for line in lines)]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        for index, row in enumerate(table):
            cells = [row[0].ljust(widths[0])]
            cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
            self.stdout.write("  ".join(cells))
            if index == 0:
                self.stdout.write("  ".join("-" * width for width in widths))
        self.stdout.write(f"Bad rows reported by the dry run: {facts['bad_rows']:,} of {rows:,}.")
        self.stdout.write(
            f"import / raw baseline: {facts['ratio']:.2f}x "
            f"(with the corrected file's dry run: {facts['end_to_end']:.2f}x; target ≤ 3x)"
        )
        self.stdout.write(
            f"Peak RSS of any phase: {facts['peak_rss_mb']:.0f} MB (target < 500 MB; the parent "
            f"process uses {facts['parent_rss_mb']:.0f} MB)."
        )
