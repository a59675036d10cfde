"""The audit log records every write and every denial, and never a token or a secret."""

from __future__ import annotations

import json
import time
from datetime import date

import pytest
import requests

from shared.auth import issue_token
from tests.stack import SERVICES, Stack

pytestmark = pytest.mark.e2e

VISITS = "/api/v1/visits"
VISIT = {"school_code": "13010001", "scheduled_date": date.today().isoformat(), "mode": "onsite"}


def test_a_write_and_a_denial_each_leave_an_entry_without_any_token(stack: Stack) -> None:
    run = str(time.time_ns())
    audit = stack.db("supervision")["audit"]
    writer = stack.token(f"aud-sup-{run}", "supervisor", "esa", "13P1")
    outsider = stack.token(f"aud-out-{run}", "supervisor", "esa", "50P1")
    teacher = stack.token(f"aud-tch-{run}", "teacher", "school", "13010001")
    forged = issue_token(
        stack.settings.with_overrides(jwt_secret="x" * 40),
        sub=f"aud-forged-{run}",
        role="admin",
        scope_level="national",
        scope_code=None,
    )
    tokens = [h["Authorization"].removeprefix("Bearer ") for h in (writer, outsider, teacher)] + [forged]

    written = requests.post(stack.url("supervision", VISITS), json=VISIT, headers=writer, timeout=10)
    assert written.status_code == 201, written.text
    assert audit.find_one({"actor": f"aud-sup-{run}", "action": {"$ne": "denied"}}), "the write left no entry"

    denials = {
        "out of scope": requests.post(
            stack.url("supervision", VISITS), json={**VISIT}, headers=outsider, timeout=10
        ),
        "wrong role": requests.post(
            stack.url("supervision", VISITS), json=VISIT, headers=teacher, timeout=10
        ),
        "no token": requests.post(
            stack.url("supervision", VISITS), json=VISIT, headers={"User-Agent": f"aud-{run}"}, timeout=10
        ),
        "forged token": requests.post(
            stack.url("supervision", VISITS),
            json=VISIT,
            headers={"Authorization": f"Bearer {forged}", "User-Agent": f"aud-{run}"},
            timeout=10,
        ),
    }
    for why, response in denials.items():
        assert response.status_code in (401, 403, 404), (why, response.status_code, response.text)
    assert audit.find_one(
        {"actor": f"aud-out-{run}", "action": "denied", "status": denials["out of scope"].status_code}
    )
    assert audit.find_one({"actor": f"aud-tch-{run}", "action": "denied", "status": 403})
    anonymous = list(audit.find({"action": "denied", "actor": None, "source.user_agent": f"aud-{run}"}))
    assert sorted(e["status"] for e in anonymous) == [401, 401]
    assert all(e["target"] == f"POST {VISITS}" and e["source"]["request_id"] for e in anonymous)

    # no entry of any service holds a token, a part of one, or a signing secret
    secrets = [stack.settings.jwt_secret, *(s for s in (stack.settings.jwt_previous_secret,) if s)]
    for service in SERVICES:
        for entry in stack.db(service)["audit"].find():
            text = json.dumps(entry, default=str)
            for token in tokens:
                assert token not in text and token.split(".")[2] not in text, (service, entry)
            for secret in secrets:
                assert secret not in text, (service, entry)
            assert "Bearer" not in text and "authorization" not in text.lower(), (service, entry)
