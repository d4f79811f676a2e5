"""The key findings of the profiling report (its summary, shown first), computed from the
profile, the cleaning log, the personal-data section and the service KPIs.

:func:`key_findings` gives three to six :class:`~workbench.report.summary.KeyFinding`, each with
its numbers and the action it suggests, in the run's language; ``None`` for a section that did
not run (no tickets table, no datetime column). The notebook's last cell shows them with
``ctx.summarize(profiling.key_findings(...))``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from workbench.data.cleaning import EVENT_TIME_COLUMNS, CleanResult
from workbench.profiling.alerts import SEVERITIES
from workbench.profiling.words import plural, severity_counts
from workbench.report import fmt
from workbench.report.i18n import category, date_text, t
from workbench.report.summary import KeyFinding

if TYPE_CHECKING:
    from workbench.profiling.personal import PersonalDataReport
    from workbench.profiling.profile import DataProfile
    from workbench.profiling.service import ServiceKPIs

__all__ = ["key_findings", "cleaning_finding", "alerts_finding", "personal_finding", "dates_finding",
           "service_finding"]


def cleaning_finding(cleaned: CleanResult) -> KeyFinding:
    """Rows cleaning removed (share of all rows) and the rule that removed most; rows flagged.

    Parameters
    ----------
    cleaned : CleanResult

    Returns
    -------
    KeyFinding
    """
    log = cleaned.log()
    rows_in = sum(cleaned.rows_in.values())
    rows_out = sum(len(f) for f in cleaned.tables.values())
    removed = rows_in - rows_out
    dropped = log["rows_before"] - log["rows_after"]
    flagged = int((log["rows_touched"] - dropped).clip(lower=0).sum())
    if removed <= 0:
        text = t("profiling.key.cleaning_none", rows=fmt.count(rows_in), flagged=fmt.count(flagged))
        return KeyFinding(text, t("profiling.key.cleaning_none_action") if not flagged else
                          t("profiling.key.cleaning_flag_action"))
    top = log.loc[dropped.idxmax()]
    text = t("profiling.key.cleaning", removed=fmt.count(removed), rows=fmt.count(rows_in),
             share=fmt.pct(removed / rows_in if rows_in else 0.0), rule=str(top["rule"]),
             table=str(top["table"]), n=fmt.count(int(dropped.max())), flagged=fmt.count(flagged))
    return KeyFinding(text, t("profiling.key.cleaning_action", key=str(top["params_key"]), table=str(top["table"])))


def alerts_finding(profile: DataProfile) -> KeyFinding:
    """Alerts by severity and the most serious one with its rows.

    Parameters
    ----------
    profile : DataProfile

    Returns
    -------
    KeyFinding
    """
    al = profile.alerts()
    if al.empty:
        return KeyFinding(t("profiling.key.alerts_none"), "")
    by = al["severity"].value_counts()
    top = al.iloc[0]
    column = f"{top['table']}.{top['column']}" if top["column"] else str(top["table"])
    text = t("profiling.key.alerts", n=fmt.count(len(al)), severities=severity_counts(by.to_dict(), SEVERITIES[:2]),
             kind=category("alert_kind", top["kind"]),
             column=column, rows=plural("profiling.findings.rows_n", int(top["n_rows"])),
             severity=category("severity", top["severity"]))
    action = "profiling.key.alerts_action_error" if top["severity"] == SEVERITIES[0] else "profiling.key.alerts_action"
    return KeyFinding(text, t(action))


def personal_finding(personal: PersonalDataReport) -> KeyFinding:
    """Personal-data columns found and how intake treated them; the action a warning asks for.

    Parameters
    ----------
    personal : PersonalDataReport

    Returns
    -------
    KeyFinding
    """
    m = personal.metrics()
    if not m["columns"]:
        return KeyFinding(t("profiling.key.personal_none"), "")
    by = m["by_treatment"]
    treated = t("profiling.sep.list_comma").join(
        t("profiling.personal.finding.count", n=fmt.count(k), what=t(f"profiling.personal.treated_short.{w}"))
        for w, k in by.items() if w in ("mask", "pseudonymize", "drop", "keep"))  # fmt: skip
    text = t("profiling.key.personal", columns=plural("profiling.personal.columns_n", m["columns"]),
             tables=plural("profiling.personal.tables_n", m["tables"]), treated=treated)
    if personal.allow_personal_data:
        action = t("profiling.key.personal_action_raw")
    elif personal.default_secret and by.get("pseudonymize"):
        action = t("profiling.key.personal_action_secret", env=personal.secret_env)
    else:
        action = t("profiling.key.personal_action")
    return KeyFinding(text, action)


def _main_dates(profile: DataProfile) -> tuple[str, str] | None:
    """The datetime column the coverage finding speaks of: the orders' own time, else the first
    own time of a table, else the first datetime column."""
    columns = profile.date_columns()
    for name, col in [("orders", EVENT_TIME_COLUMNS["orders"]), *EVENT_TIME_COLUMNS.items()]:
        if (name, col) in columns:
            return name, col
    return columns[0] if columns else None


def dates_finding(profile: DataProfile) -> KeyFinding | None:
    """Date coverage of the main datetime column: range, months, empty months, spike days and
    rows after ``as_of``; None without a datetime column.

    Parameters
    ----------
    profile : DataProfile

    Returns
    -------
    KeyFinding or None
    """
    main = _main_dates(profile)
    if main is None:
        return None
    name, col = main
    tp = profile.profiles[name]
    st = tp.stats.loc[col]
    cov = profile.date_coverage(name, col)
    gaps, spikes = int(cov["gap"].sum()), int(st.get("n_spike_days", 0) or 0)
    lo, hi = tp.date_windows[col]
    text = t("profiling.key.dates", column=f"{name}.{col}", start=date_text(lo), end=date_text(hi),
             months=fmt.count(len(cov)),
             gaps=plural("profiling.key.gap_months", gaps) if gaps else t("profiling.key.no_gap_months"),
             spikes=plural("profiling.key.spike_days", spikes))
    implausible = int((st.get("n_future", 0) or 0) + (st.get("n_prelaunch", 0) or 0))
    if implausible:
        text += t("profiling.key.dates_implausible", n=fmt.count(implausible))
    if gaps:
        action = t("profiling.key.dates_action_gaps")
    elif implausible:
        action = t("profiling.key.dates_action_implausible")
    else:
        action = t("profiling.key.dates_action")
    return KeyFinding(text, action)


def service_finding(service: ServiceKPIs) -> KeyFinding | None:
    """Overall CSAT with its interval, resolution rate, first response and the channel with the
    lowest satisfaction; None without tickets.

    Parameters
    ----------
    service : ServiceKPIs

    Returns
    -------
    KeyFinding or None
    """
    table = service.to_frame()
    if table.empty or "overall" not in set(table[service.by]):
        return None
    kpis = table.set_index(service.by)
    o = kpis.loc["overall"]
    text = t("profiling.key.service", tickets=fmt.count(o["tickets"]),
             csat=fmt.interval(o["csat_mean"], o["csat_low"], o["csat_high"], kind="num", digits=2),
             resolved=fmt.pct(o["resolution_rate"]), hours=f"{o['first_response_median_h']:.1f}")
    groups = kpis.drop(index="overall")
    groups = groups[groups["csat_n"] > 0]
    if len(groups) > 1:
        worst = groups["csat_mean"].idxmin()
        w = groups.loc[worst]
        text += t("profiling.key.service_lowest", group=category("service_group", worst),
                  csat=fmt.interval(w["csat_mean"], w["csat_low"], w["csat_high"], kind="num", digits=2))
        if pd.notna(w["csat_high"]) and w["csat_high"] < o["csat_low"]:
            return KeyFinding(text, t("profiling.key.service_action_low", group=category("service_group", worst)))
    return KeyFinding(text, t("profiling.key.service_action"))


def key_findings(
    profile: DataProfile,
    *,
    cleaned: CleanResult | None = None,
    personal: PersonalDataReport | None = None,
    service: ServiceKPIs | None = None,
) -> list[KeyFinding | None]:
    """The key findings of the profiling report, strongest first.

    Parameters
    ----------
    profile : DataProfile
    cleaned : CleanResult, optional
        The cleaning step (rows removed and flagged, and by which rule).
    personal : PersonalDataReport, optional
        The personal-data section.
    service : ServiceKPIs, optional
        Customer-service KPIs (when there is a tickets table).

    Returns
    -------
    list of KeyFinding or None
        Cleaning, alerts, personal data, date coverage and service KPIs, in that order; ``None``
        for a part not given or without data (``ctx.summarize`` leaves those out).

    Examples
    --------
    >>> ctx.summarize(profiling.key_findings(prof, cleaned=cleaned, personal=privacy,
    ...                                      service=kpis))  # doctest: +SKIP
    """
    return [
        cleaning_finding(cleaned) if cleaned is not None else None,
        alerts_finding(profile),
        personal_finding(personal) if personal is not None else None,
        dates_finding(profile),
        service_finding(service) if service is not None else None,
    ]
