"""One function per section of the campaign notebook (``04_campaign_evaluation.ipynb``).

Each section function loops over the campaigns (and arms, and subgroups) of a
:class:`~workbench.campaign.contacts.CampaignData`, calls the experiment or uplift statistics
for each and returns ONE :class:`~workbench.report.results.Result` holding them all:

=========================  ======================================================
:func:`experiment_checks`  per randomized campaign: SRM test, covariate balance, arm comparison
:func:`variance_and_power` per randomized campaign: CUPED and the power plan of the next test
:func:`subgroup_effects`   per campaign, arm and subgroup column: effects by subgroup (+ truth)
:func:`observational_effects` per campaign without control: the IPW estimate
:func:`uplift_section`     uplift data, models and their evaluation on one campaign
:func:`targeting`          the targeting list of the uplift models (value per conversion derived)
:func:`evaluation_summary` the findings list and the figures for ``metrics.json``
=========================  ======================================================

Every section that relies on the campaigns' designs first calls
:meth:`~workbench.campaign.contacts.CampaignData.require_control`: a ``control_arm`` that
matches no arm of any campaign stops there with the arms found (an AnalysisError naming
``control_arm=``) rather than counting hold-out rows as contacted customers.

A section result's :meth:`~Section.display` shows its tables, findings and charts in report
order; charts go through ``show(figure, name)`` (the run's ``ctx.show``) when given. The package
never imports the run layer: the notebook passes ``show=ctx.show``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.campaign import experiments, uplift
from workbench.campaign._common import CONSENT, TABLE, consent_by_customer, control_hint
from workbench.campaign.contacts import CampaignData
from workbench.campaign.frames import (
    BALANCE_DEFAULTS,
    campaign_frame,
    customer_covariates,
    observational_frame,
    pre_campaign_covariates,
    present,
    tracked,
)
from workbench.campaign.truth import truth_effect_check
from workbench.core.errors import AnalysisError, StatisticalWarning
from workbench.report.i18n import t
from workbench.report.plotting import new_axes
from workbench.report.results import Result

if TYPE_CHECKING:  # pragma: no cover
    import ibis

__all__ = [
    "Section",
    "ExperimentChecks",
    "VarianceAndPower",
    "SubgroupEffects",
    "ObservationalEffects",
    "UpliftSection",
    "EvaluationSummary",
    "experiment_checks",
    "variance_and_power",
    "subgroup_effects",
    "observational_effects",
    "uplift_section",
    "targeting",
    "evaluation_summary",
]

#: One piece of a section in report order: ("md", text), ("table", frame) or
#: ("figure", file name, plot function taking ``ax=None``).
Block = tuple[Any, ...]


def _md(text: str) -> Block:
    return ("md", text)


def _table(frame: Any) -> Block:
    return ("table", frame)


def _figure(name: str, plot: Callable[..., Any]) -> Block:
    return ("figure", name, plot)


def _untracked(columns: Sequence[str], what: str) -> str:
    """The note for outcome columns blank on every contact of a campaign (not tracked)."""
    return t(f"campaign.sections.untracked_{what}", columns=", ".join(f"`{c}`" for c in columns))


def _stacked(parts: Mapping[str, pd.DataFrame], key: str) -> pd.DataFrame:
    """The frames one under the other with their key as the first column ``key``."""
    frames = [p.assign(**{key: k})[[key, *p.columns]] for k, p in parts.items() if p is not None]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[key])


@dataclass(frozen=True, eq=False, repr=False)
class Section(Result):
    """Base of the section results: ordered report blocks, :meth:`display` and :meth:`figures`.

    Attributes
    ----------
    blocks : tuple
        The section in report order: ``("md", text)``, ``("table", frame)`` or
        ``("figure", file name, plot function taking ax=None)``.
    """

    blocks: tuple[Block, ...] = field(default=(), repr=False)

    def summary(self) -> pd.DataFrame:
        """The blocks: ``kind`` (md / table / figure) and ``content`` (text, table size or file name)."""
        rows = []
        for b in self.blocks:
            content = b[1] if b[0] != "table" else f"{len(b[1])} rows"
            rows.append({"kind": b[0], "content": content})
        return pd.DataFrame(rows, columns=["kind", "content"])

    def display(self, show: Callable[[Any, str], None] | None = None) -> None:
        """Show the section's headings, tables, findings and charts in report order.

        Parameters
        ----------
        show : callable, optional
            ``show(figure, name)`` saves and displays a chart (the run's ``ctx.show``); default:
            display it only.
        """
        from IPython.display import Markdown, display

        for block in self.blocks:
            if block[0] == "md":
                display(Markdown(block[1]))
            elif block[0] == "table":
                display(block[1])
            else:
                fig = block[2]()
                if show is not None:
                    show(fig, block[1])
                else:
                    display(getattr(fig, "figure", fig))

    def figures(self) -> dict[str, Any]:
        """The section's charts by file name (each drawn on a new figure)."""
        return {b[1]: b[2]() for b in self.blocks if b[0] == "figure"}

    def findings(self) -> list[str]:
        """One finding per sub-result (for the report's summary list)."""
        return []

    def finding(self) -> str:
        return " ".join(self.findings())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.blocks)} blocks)"

    def plot(self, ax: Any = None) -> Any:
        """The section's first chart; an empty panel saying so when it has none."""
        for b in self.blocks:
            if b[0] == "figure":
                return b[2](ax=ax)
        ax = new_axes(ax)
        ax.text(0.5, 0.5, t("campaign.sections.nothing_to_chart", name=type(self).__name__), ha="center", va="center",
                transform=ax.transAxes)  # fmt: skip
        ax.set_axis_off()
        return ax


# ============================================================================================
# 2. randomized campaigns: SRM, balance, arm comparison
# ============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class ExperimentChecks(Section):
    """Per randomized campaign: sample-ratio mismatch, covariate balance and the arm comparison
    (see :func:`experiment_checks`). ``srm``, ``balance`` (None without covariates) and
    ``comparisons`` map campaign id -> result."""

    srm: dict[str, Any] = field(default_factory=dict)
    balance: dict[str, Any] = field(default_factory=dict)
    comparisons: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """Every metric and arm against control, one block of rows per campaign."""
        return _stacked({k: v.summary() for k, v in self.comparisons.items()}, "campaign_id")

    def metrics(self) -> dict[str, Any]:
        return {k: v.metrics() for k, v in self.comparisons.items()}

    def findings(self) -> list[str]:
        return [v.finding() for v in self.comparisons.values()]

    def __repr__(self) -> str:
        return f"ExperimentChecks({len(self.comparisons)} randomized campaign(s): {', '.join(self.comparisons)})"


def experiment_checks(
    data: CampaignData,
    *,
    customers: pd.DataFrame | None = None,
    segments: pd.DataFrame | None = None,
    control_arm: str | None = None,
    planned_split: Mapping[str, Mapping[str, float]] | None = None,
    srm_alpha: float = 0.001,
    balance_covariates: Sequence[str] | None = None,
    metrics: Sequence[str] = ("visited", "converted", "revenue"),
    revenue_method: str = "welch",
    bootstrap: int = 2000,
    alpha: float = 0.05,
    random_state: int | None = None,
) -> ExperimentChecks:
    """SRM test, covariate balance and arm comparison of every randomized campaign.

    Parameters
    ----------
    data : CampaignData
    customers, segments : DataFrame, optional
        Joined on ``customer_id`` (:func:`~workbench.campaign.frames.campaign_frame`).
    control_arm : str, optional
        Default: the control arm of ``data``.
    planned_split : mapping, optional
        Campaign id -> arm -> planned share (default equal shares).
    srm_alpha : float
        Level of the sample-ratio mismatch test.
    balance_covariates : sequence of str, optional
        Default :data:`~workbench.campaign.frames.BALANCE_DEFAULTS`; those in the frame are used.
    metrics : sequence of str
        Outcome columns compared (those in the frame).
    revenue_method, bootstrap, alpha, random_state
        Passed to :func:`workbench.campaign.experiments.compare_arms`.

    Returns
    -------
    ExperimentChecks
    """
    data.require_control()
    control = control_arm or data.control_arm
    srm, balance, comparisons, blocks = {}, {}, {}, []
    for cid in data.observational:
        why = (t("campaign.sections.why_none") if control is None
               else t("campaign.sections.why_missing", control=control))  # fmt: skip
        blocks.append(_md(t("campaign.sections.skipped", campaign=cid, why=why)))
    for cid in data.randomized:
        frame = campaign_frame(data, cid, customers=customers, segments=segments)
        blocks.append(_md(f"### {cid}"))
        srm[cid] = experiments.srm_test(frame, planned_split=(planned_split or {}).get(cid), alpha=srm_alpha)
        blocks += [_table(srm[cid].summary()), _md(srm[cid].finding())]
        covariates = present(balance_covariates or BALANCE_DEFAULTS, frame)
        balance[cid] = experiments.balance_table(frame, covariates=covariates, control=control) if covariates else None
        if balance[cid] is not None:
            blocks.append(_md(balance[cid].finding()))
        compared, blank = tracked(metrics, frame)
        if blank:
            blocks.append(_md(_untracked(blank, "compared")))
        comp = comparisons[cid] = experiments.compare_arms(
            frame, control=control, metrics=compared, revenue_method=revenue_method,
            bootstrap=bootstrap, alpha=alpha, random_state=random_state,
        )  # fmt: skip
        blocks += [_table(comp.summary()), _figure(f"arm_comparison_{cid}", comp.plot), _md(comp.finding())]
    return ExperimentChecks(blocks=tuple(blocks), srm=srm, balance=balance, comparisons=comparisons)


# ============================================================================================
# 3. CUPED and power
# ============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class VarianceAndPower(Section):
    """Per randomized campaign: CUPED estimates (``cuped``: campaign id -> tuple of results, empty
    without the covariate) and the power plan of the next test (``plans``)."""

    cuped: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    plans: dict[str, Any] = field(default_factory=dict)
    covariate: str | None = None

    def summary(self) -> pd.DataFrame:
        """The power plan of each campaign."""
        return _stacked({k: v.summary() for k, v in self.plans.items()}, "campaign_id")

    def to_frame(self) -> pd.DataFrame:
        """The CUPED estimates of every campaign and metric."""
        parts = {k: pd.concat([c.summary() for c in v], ignore_index=True) for k, v in self.cuped.items() if v}
        return _stacked(parts, "campaign_id")

    def metrics(self) -> dict[str, Any]:
        return {k: {"power_plan": v.metrics(), "cuped": [c.metrics() for c in self.cuped.get(k, ())]}
                for k, v in self.plans.items()}  # fmt: skip

    def findings(self) -> list[str]:
        return [c.finding() for v in self.cuped.values() for c in v] + [p.finding() for p in self.plans.values()]

    def __repr__(self) -> str:
        return f"VarianceAndPower({len(self.plans)} campaign(s), covariate={self.covariate!r})"


def variance_and_power(
    data: CampaignData,
    *,
    customers: pd.DataFrame | None = None,
    control_arm: str | None = None,
    cuped_covariate: str | None = "pre_period_revenue",
    metrics: Sequence[str] = ("visited", "converted", "revenue"),
    power: float = 0.8,
    target_lift: float = 0.10,
    alpha: float = 0.05,
) -> VarianceAndPower:
    """CUPED (revenue and conversion, when the covariate exists) and a power plan per randomized campaign.

    The power plan is for ``converted`` when the campaign has it, else the first of ``metrics``.
    """
    data.require_control()
    control = control_arm or data.control_arm
    cuped, plans, blocks = {}, {}, []
    for cid in data.randomized:
        frame = campaign_frame(data, cid, customers=customers)
        blocks.append(_md(f"### {cid}"))
        found = []
        adjusted, blank = tracked(("revenue", "converted"), frame)
        if blank:
            blocks.append(_md(_untracked(blank, "cuped")))
        if cuped_covariate and cuped_covariate in frame:
            for metric in adjusted:
                cup = experiments.cuped(frame, control=control, metric=metric, covariate=cuped_covariate, alpha=alpha)
                found.append(cup)
                blocks += [_table(cup.summary()), _md(cup.finding())]
        else:
            blocks.append(_md(t("campaign.sections.no_cuped_covariate", covariate=cuped_covariate)))
        cuped[cid] = tuple(found)
        plan = plans[cid] = experiments.power_plan(
            frame, control=control, metric="converted" if "converted" in frame else metrics[0],
            power=power, target_lift=target_lift, alpha=alpha,
        )  # fmt: skip
        blocks += [_table(plan.summary()), _md(plan.finding())]
    return VarianceAndPower(blocks=tuple(blocks), cuped=cuped, plans=plans, covariate=cuped_covariate)


# ============================================================================================
# 4. effects by subgroup
# ============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class SubgroupEffects(Section):
    """Effects by subgroup (``effects``: ``"<campaign>:<arm>:<by>"`` -> heterogeneity result) and,
    on synthetic data, the truth check per campaign and arm (``truth``: ``"<campaign>:<arm>"`` ->
    frame of :func:`~workbench.campaign.truth.truth_effect_check`)."""

    effects: dict[str, Any] = field(default_factory=dict)
    truth: dict[str, pd.DataFrame] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """Every subgroup estimate, with ``campaign:arm:by`` as ``key``."""
        return _stacked({k: v.summary() for k, v in self.effects.items()}, "key")

    def to_frame(self) -> pd.DataFrame:
        """The truth checks (synthetic data only), with ``campaign:arm`` as ``key``."""
        return _stacked(self.truth, "key")

    def metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: v.metrics() for k, v in self.effects.items()}
        for k, v in self.truth.items():
            out[f"{k}:truth"] = {"covered": int(v["covered"].sum()), "segments": len(v)}
        return out

    def findings(self) -> list[str]:
        return [v.finding() for v in self.effects.values()]

    def __repr__(self) -> str:
        return f"SubgroupEffects({len(self.effects)} subgroup analyses, {len(self.truth)} truth checks)"


def subgroup_effects(
    data: CampaignData,
    *,
    customers: pd.DataFrame | None = None,
    segments: pd.DataFrame | None = None,
    truth: pd.DataFrame | None = None,
    truth_summary: Mapping[str, Any] | None = None,
    by: Sequence[str] = ("cluster_name",),
    control_arm: str | None = None,
    alpha: float = 0.05,
) -> SubgroupEffects:
    """Effects of each arm of each randomized campaign by each subgroup column in ``by`` (those
    present); with the generator's truth (synthetic data), the estimate by latent segment against
    the true effect."""
    data.require_control()
    control = control_arm or data.control_arm
    effects, checks, blocks = {}, {}, []
    for cid in data.randomized:
        frame = campaign_frame(data, cid, customers=customers, segments=segments, truth=truth)
        for arm in data.design(cid)["arms"]:
            if arm == control:
                continue
            for col in present(by, frame):
                het = effects[f"{cid}:{arm}:{col}"] = experiments.heterogeneity(
                    frame, by=col, control=control, arm_name=arm, alpha=alpha
                )
                blocks += [_md(t("campaign.sections.subgroup_heading", campaign=cid, arm=arm, by=col)), _table(het.summary()),
                           _figure(f"subgroups_{cid}_{arm}_{col}", het.plot), _md(het.finding())]  # fmt: skip
            if truth_summary is not None and "true_segment" in frame:
                het_true = experiments.heterogeneity(frame, by="true_segment", control=control, arm_name=arm, alpha=alpha)
                check = checks[f"{cid}:{arm}"] = truth_effect_check(het_true, truth_summary["campaigns"][cid], arm)
                blocks += [_md(t("campaign.sections.truth_check", campaign=cid, arm=arm,
                                 covered=int(check["covered"].sum()), n=len(check))), _table(check)]  # fmt: skip
    return SubgroupEffects(blocks=tuple(blocks), effects=effects, truth=checks)


# ============================================================================================
# 5. campaigns without a control group
# ============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class ObservationalEffects(Section):
    """IPW estimates of the campaigns without control (``effects``: campaign id -> result)."""

    effects: dict[str, Any] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()

    def summary(self) -> pd.DataFrame:
        return _stacked({k: v.summary() for k, v in self.effects.items()}, "campaign_id")

    def metrics(self) -> dict[str, Any]:
        return {k: v.metrics() for k, v in self.effects.items()}

    def findings(self) -> list[str]:
        return [v.finding() for v in self.effects.values()]

    def __repr__(self) -> str:
        return f"ObservationalEffects({len(self.effects)} campaign(s) without control, {len(self.skipped)} skipped)"


def observational_effects(
    data: CampaignData,
    *,
    orders: pd.DataFrame | None = None,
    customers: pd.DataFrame | None = None,
    truth_summary: Mapping[str, Any] | None = None,
    covariates: Sequence[str] = ("pre_period_revenue", "n_orders", "recency_days", "tenure_days"),
    estimand: str = "ATT",
    trim: float = 0.01,
    bootstrap: int = 500,
    random_state: int | None = None,
    con: ibis.BaseBackend | None = None,
) -> ObservationalEffects:
    """Contacted vs not-contacted customers, re-weighted on ``covariates`` (IPW), for each
    campaign without a control arm; skipped (with a note) without orders or customers. The
    comparison group's order features are computed on ``con`` (the run's ``ctx.engine``; default
    a fresh in-memory DuckDB)."""
    data.require_control()  # else hold-out rows would count as contacted
    effects, skipped, blocks = {}, [], []
    for cid in data.observational:
        blocks.append(_md(f"### {cid}"))
        if orders is None or customers is None:
            skipped.append(cid)
            blocks.append(_md(t("campaign.sections.needs_tables")))
            continue
        comparison = observational_frame(data, cid, orders=orders, customers=customers, con=con)
        eff = effects[cid] = experiments.observational_effect(
            comparison, treated="treated", outcome="converted", covariates=list(covariates),
            estimand=estimand, trim=trim, bootstrap=bootstrap, random_state=random_state,
        )  # fmt: skip
        blocks += [_table(eff.summary()), _figure(f"observational_{cid}", eff.plot), _md(eff.finding())]
        att = ((truth_summary or {}).get("campaigns", {}).get(cid, {}).get("overall") or {}).get(
            "att_conversion_realised"
        )  # the generator's truth exists only for campaigns it made without control
        if att is not None:
            blocks.append(_md(t("campaign.sections.truth_att", att=f"{att:.3f}")))
    return ObservationalEffects(blocks=tuple(blocks), effects=effects, skipped=tuple(skipped))


# ============================================================================================
# 6. uplift models and the targeting list
# ============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class UpliftSection(Section):
    """Uplift data, fitted models and their held-out evaluation on one randomized campaign."""

    campaign: str = ""
    data: Any = None
    models: Any = None
    evaluation: Any = None

    def summary(self) -> pd.DataFrame:
        """The held-out evaluation (Qini coefficients per model)."""
        return self.evaluation.summary()

    def metrics(self) -> dict[str, Any]:
        return self.evaluation.metrics()

    def findings(self) -> list[str]:
        return [self.evaluation.finding()]

    def __repr__(self) -> str:
        return f"UpliftSection(campaign={self.campaign!r}, {type(self.evaluation).__name__})"


def uplift_section(
    data: CampaignData,
    *,
    customers: pd.DataFrame | None = None,
    orders: pd.DataFrame | None = None,
    enabled: bool = True,
    campaign: str | None = None,
    treatment_arm: str | None = None,
    control_arm: str | None = None,
    outcome: str = "converted",
    features: Sequence[str] | None = None,
    learner: str = "hgb",
    test_size: float = 0.3,
    max_rows: int = 200_000,
    propensity: str | float = "observed",
    bootstrap: int = 200,
    random_state: int | None = None,
    con: ibis.BaseBackend | None = None,
) -> UpliftSection | None:
    """Uplift models learned on one randomized campaign (default the first), judged on held-out contacts.

    Training features are the customer covariates as of the day before the campaign
    (:func:`~workbench.campaign.frames.pre_campaign_covariates`), computed on ``con`` (the run's
    ``ctx.engine``; default a fresh in-memory DuckDB).

    Returns
    -------
    UpliftSection or None
        None when ``enabled`` is false or there is no randomized campaign.
    """
    if not enabled:
        return None
    data.require_control()
    cid = campaign or (data.randomized[0] if data.randomized else None)
    if cid is None:
        return None
    if cid not in data.randomized:
        design = data.design(cid)
        arms = data.contacts.loc[data.contacts["campaign_id"] == cid, "arm"].value_counts()
        why = "control_arm=None (no hold-out)" if data.control_arm is None else control_hint(data.control_arm, arms)
        raise AnalysisError(
            f"{TABLE}.arm: campaign={cid!r} is {design['design']}: {why}. Uplift models learn from a randomized "
            f"campaign; choose one of {', '.join(map(repr, data.randomized)) or 'none (no campaign has a hold-out)'}"
            " with campaign=, or switch uplift off (enabled=False)"
        )
    features_frame = pre_campaign_covariates(data, cid, customers=customers, orders=orders, con=con)
    udata = uplift.uplift_data(
        campaign_frame(data, cid), features_frame, treatment_arm=treatment_arm,
        control_arm=control_arm or data.control_arm, outcome=outcome, feature_columns=features, campaign=cid,
    )  # fmt: skip
    models = uplift.fit_uplift(udata, learner=learner, test_size=test_size, max_rows=max_rows,
                               propensity=propensity, random_state=random_state)  # fmt: skip
    evaluation = uplift.evaluate_uplift(models, bootstrap=bootstrap, random_state=random_state)
    blocks = (
        _table(udata.summary()), _table(evaluation.summary()), _figure("uplift_qini", evaluation.plot),
        _figure("uplift_deciles", evaluation.plot_deciles), _md(evaluation.finding()),
    )  # fmt: skip
    return UpliftSection(blocks=blocks, campaign=cid, data=udata, models=models, evaluation=evaluation)


def targeting(
    section: UpliftSection | None,
    *,
    customers: pd.DataFrame | None = None,
    orders: pd.DataFrame | None = None,
    as_of: Any,
    value_per_conversion: float | None = None,
    margin: float = 0.3,
    contact_cost: float | None = None,
    salt: str | None = None,
    allow_raw_keys: bool = False,
    model: str = "x_learner",
    consent: pd.DataFrame | None = None,
    require_consent: bool = True,
    con: ibis.BaseBackend | None = None,
) -> Any:
    """The targeting list of the uplift models over the customer base as of ``as_of``.

    The value of one incremental conversion is ``value_per_conversion`` when given, else
    ``margin`` x the mean revenue of a converting treated customer of the training campaign.

    Parameters
    ----------
    consent : DataFrame, optional
        ``customer_id`` and ``marketing_consent`` (default: ``customers``). Pass the customers as
        read, before cleaning, so a customer whose row cleaning dropped keeps their "no". A
        customer with any row saying no has no consent; one missing from it has an unknown one.
    require_consent : bool, default True
        Customers without marketing consent never enter the list (it counts them); see
        :func:`workbench.campaign.uplift.targeting_list`. No consent column: no check.
    con : ibis.BaseBackend, optional
        Engine of the candidates' order features (the run's ``ctx.engine``); default a fresh
        in-memory DuckDB.

    Returns
    -------
    workbench.campaign.uplift.TargetingList or None
        None without uplift models, or (with a StatisticalWarning naming ``value_per_conversion=``)
        when neither a value per conversion is given nor revenue is tracked to derive one.
    """
    if section is None:
        return None
    value = value_per_conversion
    if value is None:
        derived = section.data.value_per_conversion
        if derived is None or not math.isfinite(derived):
            warnings.warn(
                t("campaign.warn.no_value", table=TABLE, campaign=repr(section.campaign)),
                StatisticalWarning,
                stacklevel=2,
            )
            return None
        value = margin * derived
    candidates = customer_covariates(customers, orders, as_of=as_of, con=con)  # the base as it is now
    status = consent_by_customer(customers if consent is None else consent)
    if status is not None:
        candidates = candidates.assign(
            **{CONSENT: candidates["customer_id"].astype("string").map(status).astype("boolean")}
        )
    return uplift.targeting_list(
        section.models, candidates, value_per_conversion=value, contact_cost=contact_cost,
        salt=salt, allow_raw_keys=allow_raw_keys, model=model, require_consent=require_consent,
    )  # fmt: skip


# ============================================================================================
# summary
# ============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class EvaluationSummary(Result):
    """The report's findings list and the figures of ``metrics.json`` (see :func:`evaluation_summary`)."""

    findings: tuple[str, ...]
    recorded: dict[str, Any]

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame({"finding": list(self.findings)})

    def metrics(self) -> dict[str, Any]:
        return dict(self.recorded)

    def finding(self) -> str:
        return " ".join(self.findings)

    def plot(self, ax: Any = None) -> Any:
        """Contacts per campaign in the metrics (bars)."""
        camps = (self.recorded.get("campaigns") or {}).get("campaigns", {})
        ax = new_axes(ax)
        ax.barh(list(camps), [v["n_contacts"] for v in camps.values()])
        ax.set_xlabel(t("campaign.contacts.axis"))
        ax.set_title(t("campaign.sections.evaluated"))
        return ax

    def __repr__(self) -> str:
        return f"EvaluationSummary({len(self.findings)} findings, {len(self.recorded)} metric groups)"


def evaluation_summary(
    data: CampaignData,
    kpi: Result,
    *,
    returns: Result | None = None,
    comparisons: ExperimentChecks | None = None,
    observational: ObservationalEffects | None = None,
    uplift: UpliftSection | None = None,
    targeting: Result | None = None,
    funnel: Result | None = None,
) -> EvaluationSummary:
    """The findings of every section in report order and the figures the run records.

    ``metrics()`` holds ``campaigns``, ``kpis``, ``incremental``, ``comparisons``,
    ``observational``, ``uplift``, ``targeting`` and ``funnel`` (None or empty when a section
    did not run).
    """
    findings = [data.finding(), kpi.finding()]
    findings += [returns.finding()] if returns is not None else []
    findings += comparisons.findings() if comparisons is not None else []
    findings += observational.findings() if observational is not None else []
    findings += uplift.findings() if uplift is not None else []
    findings += [targeting.finding()] if uplift is not None and targeting is not None else []
    findings += [funnel.finding()] if funnel is not None else []
    recorded = {
        "campaigns": data.metrics(),
        "kpis": kpi.metrics(),
        "incremental": returns.metrics() if returns is not None else None,
        "comparisons": comparisons.metrics() if comparisons is not None else {},
        "observational": observational.metrics() if observational is not None else {},
        "uplift": uplift.metrics() if uplift is not None else None,
        "targeting": targeting.metrics() if targeting is not None else None,
        "funnel": funnel.metrics() if funnel is not None else None,
    }
    return EvaluationSummary(findings=tuple(findings), recorded=recorded)
