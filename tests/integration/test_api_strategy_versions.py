"""The strategy-versions API: save a draft, read it with its summary, activate it."""

from __future__ import annotations

import re
from collections.abc import Callable

from accord.audit import events
from accord.audit import models as audit_models
from accord.domain.access import Role
from accord.storage import models
from accord.web.api.api import api
from tests.integration.test_api_issue4 import Caller, _static_root, as_role, detail, ids
from tests.integration.test_strategy_versions import SIMPLE, revised

__all__ = ["_static_root", "as_role"]  # fixtures shared with the issue-4 API tests


def saved(manager: Caller, source: str = SIMPLE, **extra: object) -> dict[str, object]:
    response = manager.post("/strategy-versions", {"source": source, "note": "first", **extra})
    assert response.status_code == 201, response.content
    body: dict[str, object] = response.json()
    return body


class TestSave:
    def test_a_manager_saves_a_draft_and_reads_it_with_its_summary(
        self, as_role: Callable[..., Caller]
    ) -> None:
        manager = as_role(Role.MANAGER, name="mia")
        body = saved(manager)
        assert (body["label"], body["status"], body["created_by"]) == (
            "simple@1",
            "DRAFT",
            "user:mia",
        )
        assert body["source"] == SIMPLE
        read = as_role(Role.AUDITOR).get(f"/strategy-versions/{body['id']}").json()
        assert read == body
        assert read["segments"] == [
            {
                "name": "everyone",
                "description": "",
                "conditions": ["Every account"],
                "path": "standard",
                "experiment": "",
                "arms": [],
            }
        ]
        [standard] = read["paths"]
        assert standard["stop_when"] == ["PAYMENT_RECEIVED"]
        assert standard["steps"][0] == {
            "treatment": "LATE_NOTICE",
            "starts": "From 1 day past due",
            "template": "late_notice",
            "channels": ["EMAIL", "SMS"],
            "every_days": 7,
            "wait_days": 0,
        }
        assert audit_models.AuditEvent.objects.filter(
            event_type=events.EventType.STRATEGY_VERSION_SAVED, actor="user:mia"
        ).exists()

    def test_invalid_rules_are_refused_with_the_field_and_reason(
        self, as_role: Callable[..., Caller]
    ) -> None:
        response = as_role(Role.MANAGER).post(
            "/strategy-versions", {"source": SIMPLE.replace("from_dpd: 91", "from_dpd: 0")}
        )
        assert response.status_code == 422
        [(field, reason)] = detail(response)
        assert field == "source"
        assert "steps[1].from_dpd" in reason
        assert not models.StrategyVersion.objects.exists()

    def test_an_unknown_based_on_version_is_refused(self, as_role: Callable[..., Caller]) -> None:
        response = as_role(Role.MANAGER).post(
            "/strategy-versions", {"source": SIMPLE, "based_on_id": 424242}
        )
        assert response.status_code == 422
        assert detail(response)[0][0] == "based_on_id"

    def test_a_label_already_stored_is_a_conflict(self, as_role: Callable[..., Caller]) -> None:
        manager = as_role(Role.MANAGER)
        saved(manager)
        response = manager.post("/strategy-versions", {"source": SIMPLE})
        assert response.status_code == 409
        assert "simple@1 is stored already" in detail(response)[0][1]


class TestActivate:
    def test_activating_retires_the_previous_version(self, as_role: Callable[..., Caller]) -> None:
        manager = as_role(Role.ADMIN)
        first = saved(manager)
        second = saved(manager, revised(), based_on_id=first["id"])
        assert manager.post(f"/strategy-versions/{first['id']}/activate", {}).json()["status"] == (
            "ACTIVE"
        )
        response = manager.post(f"/strategy-versions/{second['id']}/activate", {})
        assert response.status_code == 200
        assert response.json()["status"] == "ACTIVE"
        assert manager.get(f"/strategy-versions/{first['id']}").json()["status"] == "RETIRED"
        assert ids(manager.get("/strategy-versions", status="ACTIVE")) == [second["id"]]
        assert ids(manager.get("/strategy-versions")) == [first["id"], second["id"]]

    def test_the_active_version_again_is_a_conflict(self, as_role: Callable[..., Caller]) -> None:
        manager = as_role(Role.MANAGER)
        first = saved(manager)
        manager.post(f"/strategy-versions/{first['id']}/activate", {})
        response = manager.post(f"/strategy-versions/{first['id']}/activate", {})
        assert response.status_code == 409
        assert "already the active" in detail(response)[0][1]


def test_the_schema_declares_every_answer_of_the_strategy_version_operations() -> None:
    schema = api.get_openapi_schema(path_prefix="/api/v1")
    operations = {
        (method, re.sub(r"\{[a-z_]+\}", "{id}", path.removeprefix("/api/v1"))): item[method]
        for path, item in schema["paths"].items()
        for method in item
        if "strategy-versions" in path
    }
    assert set(operations) == {
        ("get", "/strategy-versions"),
        ("get", "/strategy-versions/{id}"),
        ("post", "/strategy-versions"),
        ("post", "/strategy-versions/{id}/activate"),
    }
    for (method, path), operation in operations.items():
        assert {401, 403, 422} <= set(map(int, operation["responses"])), (method, path)
    assert {201, 409, 413} <= set(map(int, operations[("post", "/strategy-versions")]["responses"]))
    activate = operations[("post", "/strategy-versions/{id}/activate")]["responses"]
    assert {200, 404, 409} <= set(map(int, activate))
