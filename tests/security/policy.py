"""The authorization policy as the product intends it: per operation, which roles may call it and in which
scope relations between the caller's token and the object (or org unit) the call is about.

Relations (see test_authorization_matrix for the org tree they are taken in):
  own                the token's scope is the object's own unit
  sibling            another unit of the same level under the same parent
  parent:<level>     a unit above the object's unit (its cluster, its ESA area, its province)
  child:school       a school inside the object's unit (objects above school level only)
  other-province     the unit of the same level in another province
  national           a national token

An operation that lists objects answers a caller outside the relation with a list that simply lacks the object;
every other operation answers 403 or 404 (a results import: a row error, see ROW_CHECKED). `admin` may do
anything, but is bound by its scope like any other role.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.auth import ROLES

Grant = dict[str, frozenset[str]]  # role -> the relations in which it may call

OWN, SIBLING, CHILD, OTHER, NATIONAL = "own", "sibling", "child:school", "other-province", "national"
ABOVE = ("parent:cluster", "parent:esa", "parent:province")
RELATIONS = (OWN, SIBLING, *ABOVE, CHILD, OTHER, NATIONAL)
IN_SCOPE = frozenset({OWN, *ABOVE, NATIONAL})  # Principal.covers: the unit itself or anything above it
ANYWHERE = frozenset(RELATIONS)

AREA_STAFF = ("supervisor", "esa_officer", "admin")
SUPERVISION_READERS = (
    *AREA_STAFF,
    "school_director",
    "teacher",
    "cluster_coordinator",
    "province_officer",
    "national_officer",
)
TRAINING_MANAGERS = ("esa_officer", "cluster_coordinator", "admin")
TRAINING_READERS = (
    *TRAINING_MANAGERS,
    "school_director",
    "teacher",
    "supervisor",
    "province_officer",
    "national_officer",
)
IMPORTERS = ("esa_officer", "national_officer", "admin")
RESULT_READERS = (
    *IMPORTERS,
    "supervisor",
    "school_director",
    "teacher",
    "cluster_coordinator",
    "province_officer",
)
# committees: rights by token role inside the token's scope, or by a seat whose account is the caller
SEATED = ("committee_member", "committee_secretary")  # their tokens' accounts hold seats in the board
BOARD_READERS = (
    "supervisor",
    "esa_officer",
    "province_officer",
    "national_officer",
    "cluster_coordinator",
    "school_director",
    "teacher",
    "admin",
    *SEATED,
)
BOARD_RUNNERS = ("school_director", "committee_secretary", "admin")  # the director and the secretary's seat


def grant(roles: Iterable[str], relations: Iterable[str] = IN_SCOPE) -> Grant:
    return {role: frozenset(relations) for role in roles}


def merge(*grants: Grant) -> Grant:
    merged: dict[str, set[str]] = {}
    for each in grants:
        for role, relations in each.items():
            merged.setdefault(role, set()).update(relations)
    return {role: frozenset(relations) for role, relations in merged.items()}


ANY_CALLER = grant(ROLES, ANYWHERE)  # reference data and the caller's own identity: no object, no scope

SUPERVISION: dict[str, Grant] = {
    "GET /api/v1/rubric-domains": ANY_CALLER,
    "GET /api/v1/plans": grant(SUPERVISION_READERS),
    "POST /api/v1/plans": grant(AREA_STAFF),
    "GET /api/v1/plans/{plan_id}": grant(SUPERVISION_READERS),
    "GET /api/v1/visits": grant(SUPERVISION_READERS),
    "POST /api/v1/visits": grant(AREA_STAFF),
    "GET /api/v1/visits/{visit_id}": grant(SUPERVISION_READERS),
    "POST /api/v1/visits/{visit_id}/complete": grant(AREA_STAFF),
    "POST /api/v1/visits/{visit_id}/cancel": grant(AREA_STAFF),
    "POST /api/v1/visits/{visit_id}/findings": grant(AREA_STAFF),
    "GET /api/v1/coaching-sessions": grant(SUPERVISION_READERS),
    "POST /api/v1/coaching-sessions": grant(AREA_STAFF),
    "GET /api/v1/coaching-sessions/{session_id}": grant(SUPERVISION_READERS),
    # a PLC session belongs to its cluster (no school in its org path)
    "GET /api/v1/plc-sessions": grant(SUPERVISION_READERS),
    "POST /api/v1/plc-sessions": grant((*AREA_STAFF, "cluster_coordinator")),
    "GET /api/v1/plc-sessions/{session_id}": grant(SUPERVISION_READERS),
    "GET /api/v1/findings": grant(SUPERVISION_READERS),
    "GET /api/v1/findings/{finding_id}": grant(SUPERVISION_READERS),
    "POST /api/v1/findings/{finding_id}/follow-ups": grant(AREA_STAFF),
    "GET /api/v1/follow-ups": grant(SUPERVISION_READERS),
    "GET /api/v1/follow-ups/{follow_up_id}": grant(SUPERVISION_READERS),
    "POST /api/v1/follow-ups/{follow_up_id}/complete": grant((*AREA_STAFF, "school_director")),
}

# Training. A programme sits at its host's path (here an ESA area); its managers act on it from the host or
# above. A published programme is also open to the schools below its host (child:school). Attendance,
# completions and certificates sit at the teacher's school; a teacher reads and acts only for themself, so
# a teacher token is the teacher's own only when scoped to their school (own / child:school).
PROGRAMME_READ = merge(grant(TRAINING_READERS), grant(TRAINING_READERS, [CHILD]))
MANAGE = grant(TRAINING_MANAGERS)
# about one teacher (at school 13010001) on an ESA programme's roster: the teacher themself; their director
# or the programme's managers, from the teacher's own school or from the programme's host (ESA) and above
FOR_TEACHER = merge(
    grant(["teacher"], [OWN]),
    grant(("school_director", *TRAINING_MANAGERS), [OWN, "parent:esa", "parent:province", NATIONAL]),
)
TEACHER_RECORD = merge(grant(set(TRAINING_READERS) - {"teacher"}), grant(["teacher"], [OWN]))
TRAINING: dict[str, Grant] = {
    "GET /api/v1/programmes": PROGRAMME_READ,
    "POST /api/v1/programmes": MANAGE,
    "GET /api/v1/programmes/{programme_id}": PROGRAMME_READ,
    "POST /api/v1/programmes/{programme_id}/publish": MANAGE,
    "POST /api/v1/programmes/{programme_id}/close": MANAGE,
    "POST /api/v1/programmes/{programme_id}/sessions": MANAGE,
    "POST /api/v1/programmes/{programme_id}/sessions/{session_id}/reschedule": MANAGE,
    "POST /api/v1/programmes/{programme_id}/sessions/{session_id}/cancel": MANAGE,
    # the roster: everyone from the host or above; a school below sees its own teachers (a teacher: themself)
    "GET /api/v1/programmes/{programme_id}/enrolments": merge(
        grant(set(TRAINING_READERS) - {"teacher"}, [*IN_SCOPE, CHILD]), grant(["teacher"], [CHILD])
    ),
    "POST /api/v1/programmes/{programme_id}/enrolments": FOR_TEACHER,
    "POST /api/v1/programmes/{programme_id}/enrolments/{teacher_id}/withdraw": FOR_TEACHER,
    "POST /api/v1/programmes/{programme_id}/attendance": MANAGE,
    "POST /api/v1/programmes/{programme_id}/sessions/{session_id}/attendance-report": MANAGE,
    "POST /api/v1/programmes/{programme_id}/completions": MANAGE,
    "GET /api/v1/attendance": TEACHER_RECORD,
    "GET /api/v1/attendance/{attendance_id}": TEACHER_RECORD,
    "GET /api/v1/completions": TEACHER_RECORD,
    "GET /api/v1/completions/{completion_id}": TEACHER_RECORD,
    "GET /api/v1/completions/{completion_id}/certificate.html": TEACHER_RECORD,
    "GET /api/v1/completions/{completion_id}/certificate.pdf": TEACHER_RECORD,
    "GET /api/v1/teachers/{teacher_id}/pd-hours": TEACHER_RECORD,
}

# Committees, all about the school board of school 13010001 (the create: of school 13010002). The seated
# roles' accounts hold a seat (the secretary's, a member's); a seat counts only inside the token's scope.
BOARD_READ = grant(BOARD_READERS)
RUN_BOARD = grant(BOARD_RUNNERS)
# an action item owned by the member's seat: its owner may note progress and complete it
RUN_ITEM = grant((*BOARD_RUNNERS, "committee_member"))
COMMITTEE: dict[str, Grant] = {
    "GET /api/v1/committee-rules": ANY_CALLER,
    "GET /api/v1/committees": BOARD_READ,
    "POST /api/v1/committees": grant(("school_director", "esa_officer", "admin")),
    "GET /api/v1/committees/{committee_id}": BOARD_READ,
    # who may establish a board may staff it, and so may its secretary
    "POST /api/v1/committees/{committee_id}/members": grant((*BOARD_RUNNERS, "esa_officer")),
    "POST /api/v1/committees/{committee_id}/members/{member_id}/end-term": grant(
        (*BOARD_RUNNERS, "esa_officer")
    ),
    "GET /api/v1/committees/{committee_id}/meetings": BOARD_READ,
    "POST /api/v1/committees/{committee_id}/meetings": RUN_BOARD,
    "GET /api/v1/meetings/{meeting_id}": BOARD_READ,
    "POST /api/v1/meetings/{meeting_id}/hold": RUN_BOARD,
    "POST /api/v1/meetings/{meeting_id}/cancel": RUN_BOARD,
    "POST /api/v1/meetings/{meeting_id}/minutes": RUN_BOARD,
    "POST /api/v1/meetings/{meeting_id}/resolutions": RUN_BOARD,
    "GET /api/v1/resolutions": BOARD_READ,
    "GET /api/v1/resolutions/{resolution_id}": BOARD_READ,
    "POST /api/v1/resolutions/{resolution_id}/action-items": RUN_BOARD,
    "GET /api/v1/action-items": BOARD_READ,
    "GET /api/v1/action-items/{action_item_id}": BOARD_READ,
    "POST /api/v1/action-items/{action_item_id}/notes": RUN_ITEM,
    "POST /api/v1/action-items/{action_item_id}/complete": RUN_ITEM,
}

# Achievement. An import belongs to the exact scope it was made in (here the ESA area 13P1), not to the
# units above it; only a national caller sees every import.
ACHIEVEMENT: dict[str, Grant] = {
    "GET /api/v1/tests": ANY_CALLER,
    # a row of a school outside the caller's scope is refused as a row error (see ROW_CHECKED)
    "POST /api/v1/imports": grant(IMPORTERS),
    "GET /api/v1/imports": grant(IMPORTERS, [OWN, NATIONAL]),
    "GET /api/v1/imports/{import_id}": grant(IMPORTERS, [OWN, NATIONAL]),
    "GET /api/v1/results": grant(RESULT_READERS),
    "GET /api/v1/results/{result_id}": grant(RESULT_READERS),
}

# Monitoring: figures are for every signed-in role, of the units its scope covers.
UNIT_READ = grant(ROLES)
MONITORING: dict[str, Grant] = {
    "GET /api/v1/views/{level}/{code}": UNIT_READ,
    "GET /api/v1/periods": ANY_CALLER,
    "GET /api/v1/projector/lag": ANY_CALLER,
    "GET /api/v1/what-works/{level}/{code}": UNIT_READ,
    "GET /api/v1/indicators": ANY_CALLER,
    "GET /api/v1/indicators/{level}/{code}": UNIT_READ,
    "GET /api/v1/export/views/{level}/{code}": UNIT_READ,
    "GET /api/v1/export/indicators/{level}/{code}": UNIT_READ,
    "GET /api/v1/export/what-works/{level}/{code}": UNIT_READ,
    "GET /api/v1/export/alerts/{level}/{code}": UNIT_READ,
    "GET /api/v1/alerts/{level}/{code}": UNIT_READ,
    "GET /api/v1/alert-rules": ANY_CALLER,
    "GET /api/v1/me": ANY_CALLER,
    "GET /api/v1/pulse/{level}/{code}": UNIT_READ,
    "GET /api/v1/trends/{level}/{code}": UNIT_READ,
    "GET /api/v1/activity/school/{code}": UNIT_READ,
}

POLICY: dict[str, Grant] = {
    f"{service}:{operation}": rule
    for service, table in (
        ("supervision", SUPERVISION),
        ("training", TRAINING),
        ("committee", COMMITTEE),
        ("achievement", ACHIEVEMENT),
        ("monitoring", MONITORING),
    )
    for operation, rule in table.items()
}
# about no object of an org unit: one call per role is the whole story
UNSCOPED = {operation for operation, rule in POLICY.items() if rule is ANY_CALLER}
# writes checked row by row: a refused row is a 422 row error naming the scope, and none of it is stored
ROW_CHECKED = {"achievement:POST /api/v1/imports"}


def allowed(operation: str, role: str, relation: str) -> bool:
    return relation in POLICY[operation].get(role, frozenset())
