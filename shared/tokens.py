"""Issue JWTs for local use: `python -m shared.tokens issue ...` or `python -m shared.tokens demo`."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta

from shared.auth import ROLES, SCOPE_LEVELS, issue_token
from shared.settings import Settings

# Demo users match the demo directory (services/directory/demo): Pathum Thani and Chiang Mai. The committee
# secretary and member sit on the committees `python -m services.committee.cli seed-demo` creates.
DEMO_USERS = [
    {"sub": "sup-13P1", "name": "ศน.สมศรี ใจดี (Somsri)", "role": "supervisor", "level": "esa", "code": "13P1"},
    {"sub": "sup-50P1", "name": "ศน.ประเสริฐ (Prasert)", "role": "supervisor", "level": "esa", "code": "50P1"},
    {"sub": "esa-13P1", "name": "ESA officer 13P1", "role": "esa_officer", "level": "esa", "code": "13P1"},
    {
        "sub": "dir-13010001",
        "name": "ผอ.วิชัย (Wichai)",
        "role": "school_director",
        "level": "school",
        "code": "13010001",
    },
    {
        "sub": "T13010001-01",
        "name": "ครูมาลี (Malee)",
        "role": "teacher",
        "level": "school",
        "code": "13010001",
    },
    {
        "sub": "coord-13P1-C01",
        "name": "Cluster coordinator",
        "role": "cluster_coordinator",
        "level": "cluster",
        "code": "13P1-C01",
    },
    {
        "sub": "sec-13P1-C01",
        "name": "เลขานุการเครือข่าย (Network secretary)",
        "role": "committee_secretary",
        "level": "cluster",
        "code": "13P1-C01",
    },
    {
        "sub": "parent-13010001",
        "name": "คุณสมชาย ผู้ปกครอง (Somchai, parent)",
        "role": "committee_member",
        "level": "school",
        "code": "13010001",
    },
    {
        "sub": "prov-13",
        "name": "Pathum Thani province office",
        "role": "province_officer",
        "level": "province",
        "code": "13",
    },
    {
        "sub": "obec",
        "name": "OBEC national office",
        "role": "national_officer",
        "level": "national",
        "code": None,
    },
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m shared.tokens", description="Issue JWTs for local use.")
    sub = parser.add_subparsers(dest="command", required=True)
    issue = sub.add_parser("issue", help="one token")
    issue.add_argument("--sub", required=True)
    issue.add_argument("--name", default="")
    issue.add_argument("--role", required=True, choices=ROLES)
    issue.add_argument("--scope", required=True, help="LEVEL:CODE, e.g. esa:13P1, school:13010001, national")
    issue.add_argument("--hours", type=float, default=12)
    demo = sub.add_parser("demo", help="one JSON line per demo user")
    demo.add_argument("--hours", type=float, default=24 * 7)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    ttl = timedelta(hours=args.hours)
    if args.command == "issue":
        level, _, code = args.scope.partition(":")
        if level not in SCOPE_LEVELS:
            parser.error(f"scope level must be one of {', '.join(SCOPE_LEVELS)}")
        print(
            issue_token(
                settings,
                sub=args.sub,
                name=args.name,
                role=args.role,
                scope_level=level,
                scope_code=code or None,
                ttl=ttl,
            )
        )
        return
    for user in DEMO_USERS:
        token = issue_token(
            settings,
            sub=user["sub"],
            name=user["name"],
            role=user["role"],
            scope_level=user["level"],
            scope_code=user["code"],
            ttl=ttl,
        )
        scope = f"{user['level']}:{user['code']}" if user["code"] else "national"
        print(
            json.dumps(
                {
                    "user": user["sub"],
                    "name": user["name"],
                    "role": user["role"],
                    "scope": scope,
                    "token": token,
                },
                ensure_ascii=False,
            )
        )


if __name__ == "__main__":
    main()
