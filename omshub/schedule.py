"""Which `schedule:` values Airflow accepts, checked when a source YAML is read.

Airflow only judges a schedule when it serialises the DAG: a typo (`@hourli`) used to
build a DAG that the scheduler then dropped, with an import error naming neither the YAML
file nor its line. Checking here makes it a config error at `schedule:`'s line, and the
DAG factory shows the source as a broken DAG. croniter is what Airflow itself uses.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

#: Airflow's presets (airflow.utils.dates.cron_presets) plus its two special values
PRESETS = (
    "@once",
    "@continuous",
    "@hourly",
    "@daily",
    "@weekly",
    "@monthly",
    "@quarterly",
    "@yearly",
    "@annually",
)


def schedule_error(value: str) -> str | None:
    """Why `value` is not a schedule Airflow can run (None when it is)."""
    from croniter import CroniterBadCronError, croniter

    if value in PRESETS:
        return None
    if value.startswith("@"):
        return (
            f"unknown schedule preset {value!r} (one of {', '.join(PRESETS)}, or a cron expression)"
        )
    try:
        fields = croniter(value).expanded
    except (CroniterBadCronError, ValueError, KeyError) as e:
        return f"invalid cron expression {value!r}: {e}"
    if len(fields) > 5:
        return f"cron expression {value!r} has {len(fields)} fields: Airflow takes 5 (no seconds)"
    return None


def _checked(value: str) -> str:
    why = schedule_error(value)
    if why:
        raise ValueError(why)
    return value


#: a `schedule:` of a source or partner file: refused at its own line when Airflow could
#: not run it (never a DAG the scheduler drops later)
Schedule = Annotated[str, AfterValidator(_checked)]
