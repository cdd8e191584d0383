"""Define Accord's roles and what each may do.

Roles are checked server-side on every request (web views and the API); this
module is the single place that says which permission each role holds.
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    AGENT = "agent"
    TEAM_LEAD = "team_lead"
    MANAGER = "manager"
    ADMIN = "admin"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        return _LABELS[self]


class Permission(enum.StrEnum):
    VIEW_PORTFOLIO = "view_portfolio"
    IMPORT_PORTFOLIO = "import_portfolio"
    WORK_ACCOUNTS = "work_accounts"
    SUPERVISE_AGENTS = "supervise_agents"
    MANAGE_STRATEGY = "manage_strategy"
    VIEW_AUDIT_LOG = "view_audit_log"
    MANAGE_USERS = "manage_users"
    VIEW_MESSAGES = "view_messages"
    VIEW_PERFORMANCE = "view_performance"

    @property
    def codename(self) -> str:
        """Return the Django permission name, ``app_label.codename``."""
        return f"storage.{self.value}"


_LABELS = {
    Role.AGENT: "Agent",
    Role.TEAM_LEAD: "Team lead",
    Role.MANAGER: "Collections manager",
    Role.ADMIN: "Administrator",
    Role.AUDITOR: "Auditor",
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset({Permission.VIEW_PORTFOLIO, Permission.WORK_ACCOUNTS}),
    Role.TEAM_LEAD: frozenset(
        {
            Permission.VIEW_PORTFOLIO,
            Permission.WORK_ACCOUNTS,
            Permission.SUPERVISE_AGENTS,
            Permission.VIEW_MESSAGES,
            Permission.VIEW_PERFORMANCE,
        }
    ),
    Role.MANAGER: frozenset(
        {
            Permission.VIEW_PORTFOLIO,
            Permission.IMPORT_PORTFOLIO,
            Permission.SUPERVISE_AGENTS,
            Permission.MANAGE_STRATEGY,
            Permission.VIEW_MESSAGES,
            Permission.VIEW_PERFORMANCE,
        }
    ),
    Role.ADMIN: frozenset(Permission),
    # Auditors read everything and change nothing.
    Role.AUDITOR: frozenset(
        {
            Permission.VIEW_PORTFOLIO,
            Permission.VIEW_AUDIT_LOG,
            Permission.VIEW_MESSAGES,
            Permission.VIEW_PERFORMANCE,
        }
    ),
}


def may(*, roles: frozenset[Role] | set[Role], permission: Permission) -> bool:
    """Return whether any of ``roles`` grants ``permission``."""
    return any(permission in ROLE_PERMISSIONS[role] for role in roles)
