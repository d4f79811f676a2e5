"""Which columns of the churn frame are model features: :class:`FeatureSpec` and
:func:`prepare_features` (section 1 of the churn model)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from workbench.churn._common import CONSENT_COLUMN, Text, neutral
from workbench.churn.model._common import LEAK_NAME_RE, binary_label
from workbench.core.errors import AnalysisError, did_you_mean
from workbench.report.fmt import count
from workbench.report.i18n import category, t
from workbench.report.results import Result

__all__ = ["FeatureSpec", "prepare_features"]


@dataclass(frozen=True, eq=False, repr=False)
class FeatureSpec(Result):
    """Which columns of the churn frame are features (see :func:`prepare_features`).

    Attributes
    ----------
    label : str
        0/1 churn label column.
    id_column : str
        Customer key column.
    numeric : tuple of str
        Numeric (and true/false) feature columns.
    categorical : tuple of str
        Categorical feature columns (at most ``max_levels`` levels).
    dropped : dict
        Column -> why it is not a feature.
    missing : dict
        Feature -> rows with a missing value in the frame the spec was built on.
    n_rows : int
        Rows of that frame.
    max_levels : int
        Most levels a categorical feature may have.
    """

    label: str
    id_column: str
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    dropped: dict[str, str]
    missing: dict[str, int]
    n_rows: int
    max_levels: int = 30
    boolean: tuple[str, ...] = ()

    @property
    def features(self) -> list[str]:
        """All feature columns, numeric first."""
        return [*self.numeric, *self.categorical]

    def summary(self) -> pd.DataFrame:
        """One row per column: ``column``, ``role`` (numeric / categorical / dropped),
        ``reason`` (why dropped), ``missing`` (rows; imputed with the training median plus a
        missing-indicator for numeric features, a ``(missing)`` level for categorical ones)."""
        role = {r: category("churn_role", r) for r in ("numeric", "categorical", "dropped")}
        rows = [
            {"column": c, "role": role["numeric"], "reason": "", "missing": self.missing.get(c, 0)}
            for c in self.numeric
        ]
        rows += [
            {"column": c, "role": role["categorical"], "reason": "", "missing": self.missing.get(c, 0)}
            for c in self.categorical
        ]
        rows += [{"column": c, "role": role["dropped"], "reason": str(r), "missing": 0} for c, r in self.dropped.items()]
        return pd.DataFrame(rows, columns=["column", "role", "reason", "missing"])

    def metrics(self) -> dict[str, Any]:
        """Feature counts, dropped columns with reasons, missing counts (JSON-able)."""
        return {
            "label": self.label,
            "n_rows": int(self.n_rows),
            "numeric": list(self.numeric),
            "categorical": list(self.categorical),
            "dropped": {k: neutral(v) for k, v in self.dropped.items()},
            "missing": {k: int(v) for k, v in self.missing.items() if v},
        }

    def finding(self) -> str:
        """Which columns the models use and what was left out, in words."""
        sep = t("churn.list_sep")
        text = t("churn.model.features.uses", numeric=len(self.numeric), categorical=len(self.categorical),
                 n=count(self.n_rows))
        leak = [c for c, r in self.dropped.items() if _is_outcome(r)]
        if leak:
            text += t("churn.model.features.leak", columns=sep.join(leak))
        other = [c for c, r in self.dropped.items() if not _is_outcome(r)]
        if other:
            shown = sep.join(t("churn.model.features.dropped_item", column=c, reason=self.dropped[c]) for c in other[:8])
            text += t("churn.model.features.more" if len(other) > 8 else "churn.model.features.also", columns=shown)
        miss = {c: n for c, n in self.missing.items() if n}
        if miss:
            rows = sep.join(t("churn.model.features.missing_item", column=c, n=count(n)) for c, n in miss.items())
            text += t("churn.model.features.missing", columns=rows)
        return text

    def __repr__(self) -> str:
        return (
            f"FeatureSpec(label={self.label!r}, numeric={len(self.numeric)}, "
            f"categorical={len(self.categorical)}, dropped={len(self.dropped)}, rows={self.n_rows:,})"
        )



def _is_outcome(reason: str) -> bool:
    """Whether a drop reason says the column records the outcome."""
    return getattr(reason, "key", "") == "churn.model.dropped.outcome" or reason.startswith("outcome")


def prepare_features(
    frame: pd.DataFrame,
    *,
    label: str = "churned",
    features: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    max_levels: int = 30,
    id_column: str = "customer_id",
    max_corr: float = 0.99,
) -> FeatureSpec:
    """Decide which columns of the per-customer churn frame are model features.

    A column is dropped (with the reason recorded) when it is the label or the key, listed in
    ``exclude``, a date or time, constant, entirely missing, text with more than
    ``max_levels`` levels (or one level per row: an id), a near-duplicate of another
    numeric column (``max_corr``), or named like the outcome itself
    (``duration_months``, ``event``, ``churn_date``, ``dropout_*``, ``p_alive``, ...: survival
    times and end dates are only known after the customer left).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per customer: ``id_column``, ``label`` and candidate columns (not modified).
    label : str, default "churned"
        0/1, true/false or yes/no churn label.
    features : sequence of str, optional
        Use only these columns (``analyses.churn.model.features``); default every usable one.
    exclude : sequence of str, default ()
        Never use these (``analyses.churn.model.exclude``).
    max_levels : int, default 30
        Categorical columns with more levels are dropped (``analyses.churn.max_levels``).
    id_column : str, default "customer_id"
        Customer key.
    max_corr : float, default 0.99
        A numeric column correlated at least this much (absolute Pearson r) with one listed
        before it is dropped as a duplicate (e.g. ``btyd_frequency`` = ``n_purchase_days - 1``).

    Returns
    -------
    FeatureSpec

    Raises
    ------
    AnalysisError
        The label column is missing or not binary; a requested feature is missing or records
        the outcome; no usable feature is left.

    Examples
    --------
    >>> f = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "churned": [1, 0, 1, 0],
    ...     "tenure": [1, 20, 3, 30], "plan": ["m", "y", "m", "y"], "duration_months": [1, 20, 3, 30]})
    >>> spec = prepare_features(f)
    >>> spec.numeric, spec.categorical, spec.dropped["duration_months"][:7]
    (('tenure',), ('plan',), 'outcome')
    """
    _step_check_label(frame, label)
    candidates, dropped = _step_candidates(frame, label=label, features=features, id_column=id_column)
    roles = _step_roles(frame, candidates, dropped, exclude=set(exclude), check_names=features is None,
                        max_levels=max_levels)
    _step_drop_twins(frame, roles, dropped, max_corr=max_corr)
    if not roles.numeric and not roles.categorical:
        raise AnalysisError(
            f"churn frame ({len(frame):,} rows): no usable feature column is left "
            f"(dropped: {', '.join(f'{k} ({neutral(v)})' for k, v in list(dropped.items())[:10])}); "
            f"add customer features or change model.features= / model.exclude="
        )
    return FeatureSpec(
        label=label,
        id_column=id_column,
        numeric=tuple(roles.numeric),
        categorical=tuple(roles.categorical),
        dropped=dropped,
        missing=roles.missing,
        n_rows=len(frame),
        max_levels=max_levels,
        boolean=tuple(roles.boolean),
    )


@dataclass
class _Roles:
    """Feature columns found so far (mutable while :func:`prepare_features` runs)."""

    numeric: list[str]
    categorical: list[str]
    boolean: list[str]
    missing: dict[str, int]


def _step_check_label(frame: pd.DataFrame, label: str) -> None:
    """A DataFrame with a binary ``label`` column."""
    if not isinstance(frame, pd.DataFrame):
        raise AnalysisError(f"prepare_features needs a DataFrame, got {type(frame).__name__}")
    if label not in frame.columns:
        raise AnalysisError(
            f"churn frame ({len(frame):,} rows) has no label column {label!r} (columns: "
            f"{', '.join(map(str, frame.columns))}); fix label.flag_column="
            f"{did_you_mean(label, [str(c) for c in frame.columns])}"
        )
    binary_label(frame[label], label=label)


def _step_candidates(
    frame: pd.DataFrame, *, label: str, features: Sequence[str] | None, id_column: str
) -> tuple[list[str], dict[str, str]]:
    """Candidate feature columns and the columns dropped up front (key, not requested)."""
    dropped: dict[str, str] = {}
    if features is None:
        candidates = [c for c in frame.columns if c not in (label, id_column)]
    else:
        missing_cols = [c for c in features if c not in frame.columns]
        if missing_cols:
            hint = did_you_mean(str(missing_cols[0]), [str(c) for c in frame.columns])
            raise AnalysisError(
                f"features= lists column(s) {', '.join(missing_cols)} that the churn frame ({len(frame):,} rows) "
                f"does not have{hint}; columns are: {', '.join(map(str, frame.columns))} (model.features=)"
            )
        leaky = [c for c in features if LEAK_NAME_RE.search(str(c)) and c != label]
        if leaky:
            raise AnalysisError(
                f"model.features= lists {', '.join(leaky)}, which record(s) the outcome (survival "
                f"time, event or end date known only after churn); remove from model.features="
            )
        candidates = [c for c in features if c not in (label, id_column)]
        for c in frame.columns:
            if c not in candidates and c not in (label, id_column):
                dropped[str(c)] = Text("churn.model.dropped.not_requested")
    if id_column in frame.columns:
        dropped[id_column] = Text("churn.model.dropped.key")
    return candidates, dropped


def _step_roles(
    frame: pd.DataFrame, candidates: list[str], dropped: dict[str, str], *, exclude: set[str],
    check_names: bool, max_levels: int,
) -> _Roles:
    """Numeric, boolean and categorical features; every other candidate lands in ``dropped``."""
    roles = _Roles([], [], [], {})
    for c in candidates:
        s = frame[c]
        role = _role(c, s, exclude=exclude, check_names=check_names, max_levels=max_levels)
        if role not in ("numeric", "boolean", "categorical"):
            dropped[c] = role
            continue
        if role == "categorical":
            roles.categorical.append(c)
        else:
            roles.numeric.append(c)
            if role == "boolean":
                roles.boolean.append(c)
        roles.missing[c] = int(s.isna().sum())
    return roles


def _role(c: str, s: pd.Series, *, exclude: set[str], check_names: bool, max_levels: int) -> str:
    """``numeric``, ``boolean`` or ``categorical``; else why the column is not a feature."""
    if c in exclude:
        return Text("churn.model.dropped.excluded")
    if c == CONSENT_COLUMN:
        return Text("churn.model.dropped.consent")
    if check_names and LEAK_NAME_RE.search(str(c)):
        return Text("churn.model.dropped.outcome")
    if pd.api.types.is_datetime64_any_dtype(s.dtype) or isinstance(s.dtype, pd.PeriodDtype):
        return Text("churn.model.dropped.date")
    nn = int(s.notna().sum())
    if nn == 0:
        return Text("churn.model.dropped.empty")
    nunique = int(s.nunique(dropna=True))
    if nunique <= 1 and s.isna().sum() == 0:
        return Text("churn.model.dropped.constant")
    if pd.api.types.is_bool_dtype(s.dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(s.dtype):
        return "boolean" if set(pd.unique(s.dropna())) <= {0, 1} else "numeric"
    if pd.api.types.is_timedelta64_dtype(s.dtype):
        return Text("churn.model.dropped.timespan")
    if nunique > max_levels:
        if nunique >= 0.9 * nn and nn > max_levels:
            return Text("churn.model.dropped.id", n=count(nunique))
        return Text("churn.model.dropped.levels", n=count(nunique), max_levels=max_levels)
    return "categorical"


def _step_drop_twins(frame: pd.DataFrame, roles: _Roles, dropped: dict[str, str], *, max_corr: float) -> None:
    """Drop numeric near-duplicates (``|r| >= max_corr`` with a column kept earlier): twins only
    split the logistic model's weight between them; the first one stays."""
    cont = [c for c in roles.numeric if c not in roles.boolean]
    if len(cont) <= 1 or max_corr >= 1:
        return
    sample = frame[cont]
    if len(sample) > 100_000:
        sample = sample.sample(100_000, random_state=0)
    corr = sample.apply(pd.to_numeric, errors="coerce").astype("float64").corr(min_periods=10).abs()
    kept: list[str] = []
    for c in cont:
        twins = [k for k in kept if corr.loc[c, k] >= max_corr]
        if twins:
            dropped[c] = Text("churn.model.dropped.twin", twin=twins[0], r=f"{corr.loc[c, twins[0]]:.3f}",
                              max_corr=max_corr)
            roles.numeric.remove(c)
            roles.missing.pop(c, None)
        else:
            kept.append(c)
