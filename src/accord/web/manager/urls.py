"""URLs of the manager pages."""

from django.urls import URLPattern, path

from accord.web.manager import experiments, strategies, views

app_name = "manager"
urlpatterns: list[URLPattern] = [
    path("", views.overview, name="overview"),
    path("run/", strategies.run_now, name="run_now"),
    path("strategies/", strategies.strategy_list, name="strategies"),
    path("strategies/new/", strategies.strategy_editor, name="strategy_editor"),
    path("strategies/<int:version_id>/", strategies.strategy_detail, name="strategy"),
    path("strategies/<int:version_id>/diff/", strategies.strategy_diff, name="strategy_diff"),
    path(
        "strategies/<int:version_id>/dry-run/",
        strategies.strategy_dry_run,
        name="strategy_dry_run",
    ),
    path(
        "strategies/<int:version_id>/dry-runs/<int:dry_run_id>/",
        strategies.strategy_dry_run_result,
        name="strategy_dry_run_result",
    ),
    path(
        "strategies/<int:version_id>/dry-runs/<int:dry_run_id>/progress/",
        strategies.strategy_dry_run_progress,
        name="strategy_dry_run_progress",
    ),
    path(
        "strategies/<int:version_id>/activate/",
        strategies.strategy_activate,
        name="strategy_activate",
    ),
    path("accounts/<int:account_id>/why/", strategies.account_why, name="account_why"),
    path("experiments/", experiments.experiment_list, name="experiments"),
    path("experiments/<slug:name>/", experiments.experiment_detail, name="experiment"),
    path(
        "experiments/<slug:name>/arms/<slug:arm>/pause/",
        experiments.arm_pause,
        name="experiment_arm_pause",
    ),
    path(
        "experiments/<slug:name>/arms/<slug:arm>/resume/",
        experiments.arm_resume,
        name="experiment_arm_resume",
    ),
]
