"""The cleaning step: apply the ``cleaning`` params to the tables after intake, logging every rule
with the rows it touched.

Rules run in this order (each on every table it concerns; a rule that does not apply is still
logged, with the reason in ``detail``):

1. ``drop_exact_duplicates`` - drop rows identical to an earlier row in every column.
2. ``out_of_range_dates`` - dates ``datetime64[ns]`` cannot hold (``2999-01-01``,
   ``0001-01-01``): intake leaves them blank and keeps their text in a column
   ``<date column>_out_of_range`` (:func:`workbench.core.contract.out_of_range_column`).
   ``drop`` drops the row when the date is the row's own time and otherwise leaves only that date
   blank, and removes the text columns; ``flag`` adds ``flag_out_of_range_date``; ``keep`` leaves
   the dates blank. The log names each column with a few of the values. It runs before
   ``missing_required`` so such a row is counted here, not as a missing value (with ``flag`` or
   ``keep`` a row whose required own time is blank is still dropped by ``missing_required``).
3. ``missing_required`` - drop rows whose required contract columns are missing.
4. ``duplicate_keys`` - rows sharing a primary key (:attr:`TableSpec.key`): keep the first or the
   last, flag them all (``flag_duplicate_key``), or stop with a :class:`ContractError`.
   Rows whose key is missing are not duplicates.
5. ``future_dates`` - dates after ``data_end`` (default: today). ``as_of`` is *not* a cutoff:
   rows after ``as_of`` are kept, churn labels and holdouts need them.
6. ``prelaunch_dates`` - dates before ``launch_date`` (skipped when it is not set; birth dates
   are never checked).
   For 5 and 6, ``drop`` drops the row when the bad date is the row's own time (``order_time``,
   ``event_time``, ``opened_at``, ``contact_time``) and otherwise blanks only that date
   (``signup_date``, ``resolved_at`` ...), so a customer is not lost for a wrong sign-up date;
   ``flag`` adds ``flag_future_date`` / ``flag_prelaunch_date``.
7. ``negative_amounts`` - order lines with a negative amount not marked as refunds: mark them as
   refunds (``is_refund`` True, ``status`` "refunded" when the column exists), drop them or keep
   them.
8. ``orphan_orders`` - orders whose ``customer_id`` is not in the customers table (only when
   both tables are given): drop, flag (``flag_orphan``) or keep.
9. ``extreme_spenders`` - customers whose log total spend has a robust z above
   ``extreme_spender_mad_z`` (see :func:`spender_scores`): flag (``flag_extreme`` on customers and
   orders), drop their orders, or cap their order amounts at the 99.9th percentile of the other
   customers' order amounts.
10. ``impute`` - fill missing values of ``"table.column"`` by ``median``, ``mode``, ``unknown`` or
   ``zero``; statistics come from the cleaned table.

Inputs are never modified. A resident table (kept in the engine,
:class:`~workbench.core.resident.ResidentFrame`) goes through the same rules as Ibis expressions
(:mod:`workbench.data.cleaning_engine`) with the same log, and comes back resident.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args, get_type_hints

import numpy as np
import pandas as pd

from workbench.core.contract import OUT_OF_RANGE_SUFFIX, TABLES, LoadedTable, fast_isin
from workbench.core.errors import ContractError, did_you_mean, example_values, format_examples
from workbench.core.parsing import DATETIME_RANGE
from workbench.core.resident import ResidentFrame
from workbench.data.orders import REFUND_STATUSES, negative_amount_mask, purchase_mask, refund_mask
from workbench.report import fmt, i18n
from workbench.report.plotting import new_axes
from workbench.report.results import Result

__all__ = [
    "REFUND_STATUSES",
    "EVENT_TIME_COLUMNS",
    "CleanResult",
    "CleaningRules",
    "clean_tables",
    "refund_mask",
    "purchase_mask",
    "negative_amount_mask",
    "robust_z",
    "spender_scores",
    "extreme_spenders",
    "date_columns",
    "to_timestamp",
    "fast_isin",
]

EVENT_TIME_COLUMNS: dict[str, str] = {
    "orders": "order_time",
    "events": "event_time",
    "tickets": "opened_at",
    "campaign_contacts": "contact_time",
}
"""The datetime column that is a row's own time, per table."""

_NO_LAUNCH_CHECK = frozenset({"birth_date"})
_LOG_COLUMNS = [
    "step", "table", "rule", "params_key", "rows_before", "rows_after", "rows_touched", "detail",
]  # fmt: skip
_MAD_SCALE = 1.4826
_MEANAD_SCALE = 1.253314


# --------------------------------------------------------------------------------------------
# Shared CRM checks (also used by workbench.profiling.profile)
# --------------------------------------------------------------------------------------------


def to_timestamp(value: dt.date | str | pd.Timestamp | None) -> pd.Timestamp | None:
    """Turn a date-like value into a ``pandas.Timestamp`` (``None`` stays ``None``)."""
    if value is None:
        return None
    ts = pd.Timestamp(value)
    return ts.tz_localize(None) if ts.tzinfo is not None else ts


def _default_data_end(data_end: dt.date | str | pd.Timestamp | None) -> pd.Timestamp:
    """End of the plausible data: the given day, or today; the whole day counts."""
    ts = to_timestamp(data_end) if data_end is not None else pd.Timestamp.today()
    return ts.normalize() + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")


def robust_z(values: np.ndarray | pd.Series) -> np.ndarray:
    """Robust z-scores ``(x - median) / (1.4826 * MAD)``.

    When the MAD is 0 (more than half the values equal), the mean absolute deviation scaled by
    1.2533 is used instead; when that is 0 too, every z is 0. Missing values give NaN.

    Parameters
    ----------
    values : array-like of float

    Returns
    -------
    numpy.ndarray of float

    Examples
    --------
    >>> robust_z(np.array([1.0, 2.0, 3.0, 4.0, 100.0])).round(2).tolist()
    [-1.35, -0.67, 0.0, 0.67, 65.43]
    """
    x = np.asarray(values, dtype="float64")
    ok = ~np.isnan(x)
    out = np.full(x.shape, np.nan)
    if not ok.any():
        return out
    med = np.median(x[ok])
    dev = np.abs(x[ok] - med)
    scale = _MAD_SCALE * np.median(dev)
    if scale == 0:
        scale = _MEANAD_SCALE * dev.mean()
    out[ok] = 0.0 if scale == 0 else (x[ok] - med) / scale
    return out


def spender_scores(orders: pd.DataFrame) -> pd.DataFrame:
    """Total spend per customer and the robust z of its logarithm.

    Spend is the sum of positive ``amount`` over order lines that are not refunds. Customers
    with no positive spend get no score (NaN).

    Parameters
    ----------
    orders : pandas.DataFrame
        Canonical orders with ``customer_id`` and ``amount``.

    Returns
    -------
    pandas.DataFrame
        One row per customer: ``customer_id``, ``spend``, ``orders``, ``log_spend``,
        ``robust_z``.
    """
    codes, uniques = pd.factorize(orders["customer_id"], use_na_sentinel=True)
    amount = pd.to_numeric(orders["amount"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    use = (codes >= 0) & (amount > 0) & ~refund_mask(orders).to_numpy()
    k = len(uniques)
    spend = np.bincount(codes[use], weights=amount[use], minlength=k)
    n_orders = np.bincount(codes[codes >= 0], minlength=k)
    with np.errstate(divide="ignore"):
        log_spend = np.where(spend > 0, np.log(np.where(spend > 0, spend, 1.0)), np.nan)
    return pd.DataFrame(
        {
            "customer_id": pd.Series(uniques, dtype=orders["customer_id"].dtype),
            "spend": spend,
            "orders": n_orders,
            "log_spend": log_spend,
            "robust_z": robust_z(log_spend),
        }
    )


def extreme_spenders(orders: pd.DataFrame, *, mad_z: float = 8.0) -> pd.DataFrame:
    """Customers whose log total spend has a robust z above ``mad_z``.

    Parameters
    ----------
    orders : pandas.DataFrame
        Canonical orders with ``customer_id`` and ``amount``.
    mad_z : float, default 8.0
        Threshold (``cleaning.extreme_spender_mad_z``).

    Returns
    -------
    pandas.DataFrame
        Rows of :func:`spender_scores` above the threshold, largest z first.
    """
    scores = spender_scores(orders)
    out = scores[scores["robust_z"] > mad_z]
    return out.sort_values("robust_z", ascending=False).reset_index(drop=True)


def date_columns(frame: pd.DataFrame) -> list[str]:
    """Names of the datetime columns of a frame."""
    return [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]


def _date_values(series: pd.Series) -> np.ndarray:
    """Datetimes as naive ``datetime64[ns]`` numpy values (NaT for missing)."""
    s = series
    if getattr(s.dtype, "tz", None) is not None:
        s = s.dt.tz_localize(None)
    return s.to_numpy(dtype="datetime64[ns]")


# --------------------------------------------------------------------------------------------
# The cleaning step
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CleaningRules:
    """The rules of one cleaning run: the keyword options of :func:`clean_tables`.

    Names and defaults equal the fields of the params section ``cleaning``
    (:class:`~workbench.core.params.CleaningParams`), so a notebook passes
    ``**P.cleaning.model_dump()``. The module docstring says what each rule does.

    Attributes
    ----------
    drop_exact_duplicates : bool
        Drop rows identical to an earlier row.
    duplicate_keys : {"keep_first", "keep_last", "flag", "error"}
        Rows sharing a primary key.
    orphan_orders : {"drop", "flag", "keep"}
        Orders of customers not in the customers table.
    negative_amounts : {"refund", "drop", "keep"}
        Negative amount lines not marked as refunds.
    out_of_range_dates : {"drop", "flag", "keep"}
        Dates intake could not hold (year 2999, 0001), now blank.
    future_dates, prelaunch_dates : {"drop", "flag", "keep"}
        Dates after ``data_end`` / before ``launch_date``.
    extreme_spenders : {"flag", "drop", "cap", "keep"}
        Customers whose robust z of log total spend exceeds ``extreme_spender_mad_z``.
    extreme_spender_mad_z : float
        That threshold (> 0).
    missing_required : {"drop", "keep"}
        Rows missing a required contract column.
    impute : mapping of str to str
        ``"table.column"`` -> ``median``, ``mode``, ``unknown`` or ``zero``.
    """

    drop_exact_duplicates: bool = True
    duplicate_keys: Literal["keep_first", "keep_last", "flag", "error"] = "keep_last"
    orphan_orders: Literal["drop", "flag", "keep"] = "flag"
    negative_amounts: Literal["refund", "drop", "keep"] = "refund"
    out_of_range_dates: Literal["drop", "flag", "keep"] = "drop"
    future_dates: Literal["drop", "flag", "keep"] = "drop"
    prelaunch_dates: Literal["drop", "flag", "keep"] = "drop"
    extreme_spenders: Literal["flag", "drop", "cap", "keep"] = "flag"
    extreme_spender_mad_z: float = 4.5
    missing_required: Literal["drop", "keep"] = "drop"
    impute: Mapping[str, Literal["median", "mode", "unknown", "zero"]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        hints = get_type_hints(type(self))
        for f in fields(self):
            choices = get_args(hints[f.name]) if f.name != "impute" else ()
            value = getattr(self, f.name)
            if choices and value not in choices:
                raise ValueError(f"{f.name}={value!r} is not a rule; choose one of {', '.join(choices)}")
        hows = get_args(get_args(hints["impute"])[1])
        for target, how in dict(self.impute).items():
            if how not in hows:
                raise ValueError(f"impute={{{target!r}: {how!r}}}: choose one of {', '.join(hows)}")
        if not self.extreme_spender_mad_z > 0:
            raise ValueError(f"extreme_spender_mad_z={self.extreme_spender_mad_z!r} must be > 0")

    @classmethod
    def of(cls, **rules: Any) -> CleaningRules:
        """The rules of the keyword options :func:`clean_tables` was given (others: defaults).

        Raises
        ------
        TypeError
            An option that is not a rule, with a did-you-mean.
        ValueError
            A rule's value is not one of its choices.
        """
        names = [f.name for f in fields(cls)]
        for name in rules:
            if name not in names:
                raise TypeError(f"unknown cleaning rule {name!r}{did_you_mean(name, names)}; "
                                f"rules: {', '.join(names)}")  # fmt: skip
        return cls(**rules)


@dataclass(frozen=True)
class CleanResult(Result):
    """Cleaned tables and the log of what each rule did.

    Attributes
    ----------
    tables : dict of str to DataFrame or ResidentFrame
        Cleaned canonical frames; a table cleaned in the engine as a
        :class:`~workbench.core.resident.ResidentFrame` (``clean_<name>.parquet``).
    log_frame : pandas.DataFrame
        One row per rule and table; see :meth:`log`.
    rules : CleaningRules
        The rules applied.
    as_of, data_end, launch_date : pandas.Timestamp or None
        Dates used (``data_end``: later dates are "future").
    """

    tables: dict[str, pd.DataFrame | ResidentFrame]
    log_frame: pd.DataFrame
    rules: CleaningRules
    as_of: pd.Timestamp | None
    data_end: pd.Timestamp
    launch_date: pd.Timestamp | None = None
    rows_in: dict[str, int] = field(default_factory=dict)

    def log(self) -> pd.DataFrame:
        """What each rule did.

        Returns
        -------
        pandas.DataFrame
            One row per rule and table: ``step``, ``table``, ``rule``, ``params_key``,
            ``rows_before``, ``rows_after``, ``rows_touched`` (rows dropped, flagged or changed),
            ``detail``.
        """
        return self.log_frame.copy()

    def to_frame(self) -> pd.DataFrame:
        """The full log (same as :meth:`log`)."""
        return self.log()

    def summary(self) -> pd.DataFrame:
        """Rows in and out per table.

        Returns
        -------
        pandas.DataFrame
            One row per table: ``rows_in``, ``rows_out``, ``rows_dropped``, ``share_dropped``,
            ``rows_touched`` (all rules), ``rules_applied`` (rules that touched a row).
        """
        rows = []
        for name, frame in self.tables.items():
            lg = self.log_frame[self.log_frame["table"] == name]
            n_in = self.rows_in.get(name, len(frame))
            rows.append(
                {
                    "table": name,
                    "rows_in": n_in,
                    "rows_out": len(frame),
                    "rows_dropped": n_in - len(frame),
                    "share_dropped": (n_in - len(frame)) / n_in if n_in else 0.0,
                    "rows_touched": int(lg["rows_touched"].sum()),
                    "rules_applied": ", ".join(lg.loc[lg["rows_touched"] > 0, "rule"].unique()),
                }
            )
        return pd.DataFrame(rows).set_index("table")

    def metrics(self) -> dict[str, Any]:
        """Figures for the run's metrics file (JSON-able)."""
        touched = {
            f"{r.table}.{r.rule}": int(r.rows_touched)
            for r in self.log_frame.itertuples()
            if r.rows_touched
        }
        return {
            "rows_in": {k: int(v) for k, v in self.rows_in.items()},
            "rows_out": {k: len(v) for k, v in self.tables.items()},
            "rows_touched": touched,
            "as_of": None if self.as_of is None else str(self.as_of.date()),
            "data_end": str(self.data_end.date()),
            "launch_date": None if self.launch_date is None else str(self.launch_date.date()),
            "rules": asdict(self.rules),
        }

    def finding(self) -> str:
        """One plain-language sentence on what cleaning changed, computed from the log."""
        parts = []
        for name, frame in self.tables.items():
            n_in = self.rows_in.get(name, len(frame))
            lg = self.log_frame[(self.log_frame["table"] == name) & (self.log_frame["rows_touched"] > 0)]
            if lg.empty:
                continue
            rules = i18n.t("profiling.sep.clause").join(f"{r.rule} {int(r.rows_touched):,}" for r in lg.itertuples())
            dropped = n_in - len(frame)
            parts.append(i18n.t("profiling.cleaning.finding_table", table=name, dropped=f"{dropped:,}", rows=f"{n_in:,}",
                           share=f"{dropped / n_in if n_in else 0:.1%}", rules=rules))
        if not parts:
            return i18n.t("profiling.cleaning.finding_none")
        return i18n.t("profiling.cleaning.finding", parts=i18n.t("profiling.sep.sentence_end").join(parts))

    def plot(self, ax: Any = None) -> Any:
        """Bar chart of rows touched per rule and table.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure when omitted.

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = new_axes(ax, figsize=(8, 4))
        lg = self.log_frame[self.log_frame["rows_touched"] > 0]
        if lg.empty:
            ax.text(0.5, 0.5, i18n.t("profiling.cleaning.plot_none"), ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            return ax
        labels = lg["table"] + " · " + lg["rule"]
        ax.barh(labels, lg["rows_touched"])
        ax.invert_yaxis()
        ax.set_xlabel(i18n.t("profiling.cleaning.plot_axis"))
        ax.set_title(i18n.t("profiling.cleaning.plot_title"))
        return ax

    def __repr__(self) -> str:
        n_in = sum(self.rows_in.values())
        n_out = sum(len(v) for v in self.tables.values())
        touched = int(self.log_frame["rows_touched"].sum()) if len(self.log_frame) else 0
        return f"CleanResult(tables={len(self.tables)}, rows_in={n_in:,}, rows_out={n_out:,}, rows_touched={touched:,})"


class _Log:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.step = 0

    def add(self, table: str, rule: str, key: str, before: int, after: int, touched: int, detail: str) -> None:
        self.rows.append(
            {
                "step": self.step,
                "table": table,
                "rule": rule,
                "params_key": key,
                "rows_before": int(before),
                "rows_after": int(after),
                "rows_touched": int(touched),
                "detail": detail,
            }
        )

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=_LOG_COLUMNS)


def _fmt_n(n: int, total: int) -> str:
    return i18n.t("profiling.common.rows_of", n=f"{n:,}", total=f"{total:,}", unit=i18n.t("profiling.unit.rows"),
             share=f"{n / total if total else 0:.1%}")


def _say(key: str, /, **values: Any) -> str:
    """A cleaning log detail in the run's language (``profiling.cleaning.<key>``)."""
    return i18n.t(f"profiling.cleaning.{key}", **values)


def _step_exact_duplicates(frames: dict[str, pd.DataFrame], rules: CleaningRules, log: _Log) -> None:
    for name, frame in frames.items():
        n = len(frame)
        if not rules.drop_exact_duplicates:
            log.add(name, "drop_exact_duplicates", "cleaning.drop_exact_duplicates", n, n, 0, _say("off"))
            continue
        dup = frame.duplicated(keep="first").to_numpy()
        k = int(dup.sum())
        if k:
            frames[name] = frame.loc[~dup]
        log.add(name, "drop_exact_duplicates", "cleaning.drop_exact_duplicates", n, n - k, k,
                _say("exact_duplicates", rows=_fmt_n(k, n)))  # fmt: skip


def _step_missing_required(frames: dict[str, pd.DataFrame], rules: CleaningRules, log: _Log) -> None:
    for name, frame in frames.items():
        spec = TABLES.get(name)
        n = len(frame)
        req = [c for c in (spec.required if spec else []) if c in frame]
        if not req:
            log.add(name, "missing_required", "cleaning.missing_required", n, n, 0, _say("no_required"))
            continue
        miss = frame[req].isna()
        bad = miss.any(axis=1).to_numpy()
        k = int(bad.sum())
        per_col = ", ".join(f"{c} {int(v):,}" for c, v in miss.sum().items() if v)
        if rules.missing_required == "drop" and k:
            frames[name] = frame.loc[~bad]
            detail = _say("required_dropped", rows=_fmt_n(k, n), columns=per_col)
        elif k:
            detail = _say("required_kept", rows=_fmt_n(k, n), columns=per_col)
        else:
            detail = _say("required_complete", columns=", ".join(req))
        touched = k if rules.missing_required == "drop" else 0
        log.add(name, "missing_required", "cleaning.missing_required", n, len(frames[name]), touched, detail)


def _step_duplicate_keys(frames: dict[str, pd.DataFrame], rules: CleaningRules, log: _Log) -> None:
    key_param = "cleaning.duplicate_keys"
    for name, frame in frames.items():
        spec = TABLES.get(name)
        n = len(frame)
        key = list(spec.key) if spec else []
        if not key or any(c not in frame for c in key):
            log.add(name, "duplicate_keys", key_param, n, n, 0, _say("no_key"))
            continue
        has_key = frame[key].notna().all(axis=1).to_numpy()
        keyed = frame.loc[has_key, key]
        dup_any = np.zeros(n, dtype=bool)
        dup_any[has_key] = keyed.duplicated(keep=False).to_numpy()
        n_involved = int(dup_any.sum())
        label = ", ".join(key)
        if n_involved == 0:
            log.add(name, "duplicate_keys", key_param, n, n, 0, _say("key_unique", key=label))
            continue
        mode = rules.duplicate_keys
        if mode == "error":
            dup_keys = frame.loc[dup_any, key]
            ex = (dup_keys[key[0]] if len(key) == 1 else dup_keys.astype(str).agg("/".join, axis=1))
            n_keys = len(dup_keys.drop_duplicates())
            raise ContractError(
                name,
                f"share a key value with another row ({n_keys:,} {label} values appear more than "
                f"once); set duplicate_keys= to keep_first, keep_last or flag to resolve them",
                column=label,
                n_rows=n_involved,
                n_total=n,
                examples=example_values(ex),
            )
        if mode == "flag":
            out = frame.copy()
            out["flag_duplicate_key"] = pd.array(dup_any, dtype="boolean")
            frames[name] = out
            log.add(name, "duplicate_keys", key_param, n, n, n_involved,
                    _say("keys_flagged", rows=_fmt_n(n_involved, n), key=label))  # fmt: skip
            continue
        keep = "first" if mode == "keep_first" else "last"
        drop = np.zeros(n, dtype=bool)
        drop[has_key] = keyed.duplicated(keep=keep).to_numpy()
        k = int(drop.sum())
        frames[name] = frame.loc[~drop]
        log.add(name, "duplicate_keys", key_param, n, n - k, k,
                _say(f"keys_dropped_{keep}", rows=_fmt_n(k, n), key=label))  # fmt: skip


def _step_dates(
    frames: dict[str, pd.DataFrame],
    *,
    rule: str,
    mode: str,
    bound: pd.Timestamp | None,
    after: bool,
    log: _Log,
) -> None:
    key = f"cleaning.{rule}"
    flag_col = "flag_future_date" if after else "flag_prelaunch_date"
    for name, frame in frames.items():
        n = len(frame)
        if bound is None:
            log.add(name, rule, key, n, n, 0, _say("no_launch"))
            continue
        cols = [c for c in date_columns(frame) if after or c not in _NO_LAUNCH_CHECK]
        cols = [c for c in cols if not c.startswith("flag_")]
        if not cols:
            log.add(name, rule, key, n, n, 0, _say("no_dates"))
            continue
        b = np.datetime64(bound.to_datetime64(), "ns")
        masks = {}
        for c in cols:
            v = _date_values(frame[c])
            masks[c] = (v > b) if after else (v < b)  # NaT compares False
        where = "after" if after else "before"
        day = i18n.date_text(bound)
        per_col = ", ".join(f"{c} {int(m.sum()):,}" for c, m in masks.items() if m.any())
        if not np.logical_or.reduce(list(masks.values())).any():
            log.add(name, rule, key, n, n, 0, _say(f"no_dates_{where}", date=day))
            continue
        _apply_date_rule(frames, name, masks, mode=mode, flag_col=flag_col, what=_say(f"with_dates_{where}", date=day),
                         own_what=_say(f"own_{where}", date=day), per_col=per_col, rule=rule, log=log)  # fmt: skip


def _apply_date_rule(
    frames: dict[str, pd.DataFrame],
    name: str,
    masks: Mapping[str, np.ndarray],
    *,
    mode: str,
    flag_col: str,
    what: str,
    own_what: str,
    per_col: str,
    rule: str,
    log: _Log,
    note: str = "",
) -> pd.DataFrame:
    """Drop, flag or keep the rows of ``frames[name]`` with a bad date (``masks``: column -> rows).

    ``drop`` drops a row whose own time (:data:`EVENT_TIME_COLUMNS`) is bad and blanks the other
    bad dates; ``flag`` adds ``flag_col``. Logs the rule (``note`` ends the detail of a drop) and
    returns the new frame.
    """
    key = f"cleaning.{rule}"
    frame = frames[name]
    n = len(frame)
    any_bad = np.logical_or.reduce(list(masks.values()))
    k = int(any_bad.sum())
    if mode == "keep":
        log.add(name, rule, key, n, n, 0, _say("dates_kept", rows=_fmt_n(k, n), what=what, columns=per_col))
        return frame
    out = frame.copy()
    if mode == "flag":
        out[flag_col] = pd.array(any_bad, dtype="boolean")
        frames[name] = out
        log.add(name, rule, key, n, n, k, _say("dates_flagged", rows=_fmt_n(k, n), what=what, columns=per_col,
                                              flag=flag_col))
        return out
    own = EVENT_TIME_COLUMNS.get(name)
    drop = masks[own] if own in masks else np.zeros(n, dtype=bool)
    blanked = []
    for c, m in masks.items():
        if c == own:
            continue
        m2 = m & ~drop
        if m2.any():
            out.loc[m2, c] = pd.NaT
            blanked.append(f"{c} {int(m2.sum()):,}")
    out = out.loc[~drop]
    frames[name] = out
    detail = _say("dates_dropped", rows=_fmt_n(int(drop.sum()), n), column=own, what=own_what) if drop.any() else ""
    if blanked:
        detail += (i18n.t("profiling.sep.clause") if detail else "") + _say("dates_blanked", columns=", ".join(blanked))
    log.add(name, rule, key, n, len(out), k, detail + note)
    return out


def _step_out_of_range_dates(frames: dict[str, pd.DataFrame], rules: CleaningRules, log: _Log) -> None:
    """Rows whose dates intake could not hold: the text columns ``<date>_out_of_range``."""
    rule, key = "out_of_range_dates", "cleaning.out_of_range_dates"
    for name, frame in frames.items():
        n = len(frame)
        markers = {c[: -len(OUT_OF_RANGE_SUFFIX)]: c for c in frame.columns
                   if str(c).endswith(OUT_OF_RANGE_SUFFIX) and str(c)[: -len(OUT_OF_RANGE_SUFFIX)] in frame}  # fmt: skip
        masks = {d: frame[m].notna().to_numpy(dtype=bool) for d, m in markers.items()}
        masks = {d: m for d, m in masks.items() if m.any()}
        if not masks:
            log.add(name, rule, key, n, n, 0, _say("no_out_of_range"))
            if markers:
                frames[name] = frame.drop(columns=list(markers.values()))
            continue
        per_col = i18n.t("profiling.sep.clause").join(
            _say("out_of_range_column", column=d, n=f"{int(m.sum()):,}",
                 examples=format_examples(example_values(frame.loc[m, markers[d]]), 3))
            for d, m in masks.items()
        )
        lo, hi = (d.date() for d in DATETIME_RANGE)
        out = _apply_date_rule(frames, name, masks, mode=rules.out_of_range_dates, flag_col="flag_out_of_range_date",
                               what=_say("with_dates_outside", start=lo, end=hi), own_what=_say("out_of_range"),
                               per_col=per_col, rule=rule, log=log,
                               note=i18n.t("profiling.sep.clause") + per_col)  # fmt: skip
        if rules.out_of_range_dates == "drop":
            frames[name] = out.drop(columns=list(markers.values()))


def _step_negative_amounts(frames: dict[str, pd.DataFrame], rules: CleaningRules, log: _Log) -> None:
    key = "cleaning.negative_amounts"
    if "orders" not in frames:
        return
    frame = frames["orders"]
    n = len(frame)
    neg = negative_amount_mask(frame).to_numpy()
    k = int(neg.sum())
    if k == 0:
        log.add("orders", "negative_amounts", key, n, n, 0, _say("no_negative"))
        return
    mode = rules.negative_amounts
    if mode == "keep":
        log.add("orders", "negative_amounts", key, n, n, 0, _say("negative_kept", rows=_fmt_n(k, n)))
        return
    if mode == "drop":
        frames["orders"] = frame.loc[~neg]
        log.add("orders", "negative_amounts", key, n, n - k, k, _say("negative_dropped", rows=_fmt_n(k, n)))
        return
    out = frame.copy()
    flag = out["is_refund"].astype("boolean") if "is_refund" in out else pd.Series(False, index=out.index, dtype="boolean")
    flag = flag.mask(pd.Series(neg, index=out.index), True)
    out["is_refund"] = flag
    status_note = ""
    if "status" in out:
        status = out["status"]
        if isinstance(status.dtype, pd.CategoricalDtype) and "refunded" not in status.cat.categories:
            status = status.cat.add_categories(["refunded"])
        out["status"] = status.mask(pd.Series(neg, index=out.index), "refunded")
        status_note = _say("negative_status")
    frames["orders"] = out
    log.add("orders", "negative_amounts", key, n, n, k, _say("negative_refund", rows=_fmt_n(k, n), status=status_note))


def _step_orphans(frames: dict[str, pd.DataFrame], rules: CleaningRules, log: _Log) -> None:
    key = "cleaning.orphan_orders"
    if "orders" not in frames:
        return
    frame = frames["orders"]
    n = len(frame)
    if "customers" not in frames or "customer_id" not in frames["customers"]:
        log.add("orders", "orphan_orders", key, n, n, 0, _say("no_customers"))
        return
    known = frames["customers"]["customer_id"]
    orphan = frame["customer_id"].notna().to_numpy() & ~fast_isin(frame["customer_id"], known)
    k = int(orphan.sum())
    n_cust = frame.loc[orphan, "customer_id"].nunique()
    mode = rules.orphan_orders
    what = _say("orphans", rows=_fmt_n(k, n), n=f"{n_cust:,}")
    if k == 0:
        log.add("orders", "orphan_orders", key, n, n, 0, _say("no_orphans"))
    elif mode == "drop":
        frames["orders"] = frame.loc[~orphan]
        log.add("orders", "orphan_orders", key, n, n - k, k, _say("orphans_dropped", what=what))
    elif mode == "flag":
        out = frame.copy()
        out["flag_orphan"] = pd.array(orphan, dtype="boolean")
        frames["orders"] = out
        log.add("orders", "orphan_orders", key, n, n, k, _say("orphans_flagged", what=what))
    else:
        log.add("orders", "orphan_orders", key, n, n, 0, _say("orphans_kept", what=what))


def _step_extreme(frames: dict[str, pd.DataFrame], rules: CleaningRules, log: _Log) -> None:
    key = "cleaning.extreme_spenders"
    if "orders" not in frames or not {"customer_id", "amount"} <= set(frames["orders"].columns):
        return
    orders = frames["orders"]
    n = len(orders)
    mode = rules.extreme_spenders
    ext = extreme_spenders(orders, mad_z=rules.extreme_spender_mad_z)
    ids = ext["customer_id"]
    is_ext = fast_isin(orders["customer_id"], ids)
    k = int(is_ext.sum())
    z = f"{rules.extreme_spender_mad_z:g}"
    who = _say("extreme_who", n=f"{len(ids):,}", z=z)
    if len(ids) == 0:
        log.add("orders", "extreme_spenders", key, n, n, 0, _say("no_extreme", z=z))
        return
    if mode == "keep":
        log.add("orders", "extreme_spenders", key, n, n, 0, _say("extreme_kept", who=who, rows=f"{k:,}"))
    elif mode == "flag":
        out = orders.copy()
        out["flag_extreme"] = pd.array(is_ext, dtype="boolean")
        frames["orders"] = out
        log.add("orders", "extreme_spenders", key, n, n, k, _say("extreme_flagged", rows=_fmt_n(k, n), who=who))
        if "customers" in frames and "customer_id" in frames["customers"]:
            cust = frames["customers"].copy()
            m = fast_isin(cust["customer_id"], ids)
            cust["flag_extreme"] = pd.array(m, dtype="boolean")
            frames["customers"] = cust
            log.add("customers", "extreme_spenders", key, len(cust), len(cust), int(m.sum()),
                    _say("extreme_customers_flagged", rows=_fmt_n(int(m.sum()), len(cust))))  # fmt: skip
    elif mode == "drop":
        frames["orders"] = orders.loc[~is_ext]
        log.add("orders", "extreme_spenders", key, n, n - k, k, _say("extreme_dropped", rows=_fmt_n(k, n), who=who))
    else:  # cap
        amount = orders["amount"].to_numpy(dtype="float64", na_value=np.nan)
        others = amount[~is_ext & (amount > 0)]
        if len(others) == 0:
            log.add("orders", "extreme_spenders", key, n, n, 0, _say("extreme_not_capped", who=who))
            return
        cap = float(np.quantile(others, 0.999))
        over = is_ext & (amount > cap)
        out = orders.copy()
        out.loc[over, "amount"] = cap
        frames["orders"] = out
        log.add("orders", "extreme_spenders", key, n, n, int(over.sum()),
                _say("extreme_capped", n=f"{int(over.sum()):,}", who=who, cap=fmt.money(cap, 2)))  # fmt: skip


def _step_impute(frames: dict[str, pd.DataFrame], rules: CleaningRules, log: _Log) -> None:
    for target, how in rules.impute.items():
        key = f"cleaning.impute.{target}"
        fix = f"; fix the data or impute={{{target!r}: {how!r}}}"
        if "." not in target:
            raise ContractError(
                target, 'is not "table.column": write impute keys like impute={"customers.age": "median"}',
            )  # fmt: skip
        name, col = target.split(".", 1)
        if name not in frames:
            log.add(name, f"impute {how}", key, 0, 0, 0, _say("impute_no_table", table=name))
            continue
        frame = frames[name]
        n = len(frame)
        if col not in frame:
            raise ContractError(
                name, f"has no column {col!r} to impute; columns: {', '.join(map(str, frame.columns))}{fix}",
                column=col,
            )  # fmt: skip
        s = frame[col]
        miss = s.isna().to_numpy()
        k = int(miss.sum())
        numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        if how == "median":
            if not numeric:
                raise ContractError(name, f"cannot be imputed by median: it is not numeric ({s.dtype}){fix}",
                                    column=col)  # fmt: skip
            value: Any = float(s.median()) if s.notna().any() else np.nan
        elif how == "zero":
            if pd.api.types.is_bool_dtype(s):
                value = False
            elif numeric:
                value = 0.0
            else:
                raise ContractError(name, f"cannot be imputed by zero: it is not numeric or yes/no ({s.dtype}){fix}",
                                    column=col)  # fmt: skip
        elif how == "unknown":
            if numeric or pd.api.types.is_datetime64_any_dtype(s) or pd.api.types.is_bool_dtype(s):
                raise ContractError(name, f"cannot be imputed by 'unknown': it is not text ({s.dtype}); use median, mode or zero{fix}",
                                    column=col)  # fmt: skip
            value = "unknown"
        else:  # mode
            vc = s.value_counts(dropna=True)
            value = vc.index[0] if len(vc) else np.nan
        if k == 0 or pd.isna(value):
            log.add(name, f"impute {how}", key, n, n, 0,
                    _say("impute_none" if k == 0 else "impute_empty"))  # fmt: skip
            continue
        out = frame.copy()
        if isinstance(s.dtype, pd.CategoricalDtype) and value not in s.cat.categories:
            out[col] = s.cat.add_categories([value])
        out[col] = out[col].fillna(value)
        frames[name] = out
        shown = f"{value:,.4g}" if isinstance(value, float) else repr(value)
        log.add(name, f"impute {how}", key, n, n, k, _say("imputed", rows=_fmt_n(k, n), value=shown))


def clean_tables(
    tables: Mapping[str, LoadedTable] | Mapping[str, pd.DataFrame],
    *,
    as_of: dt.date | str | pd.Timestamp | None,
    launch_date: dt.date | str | pd.Timestamp | None = None,
    data_end: dt.date | str | pd.Timestamp | None = None,
    con: Any = None,
    out_dir: str | Path | None = None,
    **rules: Any,
) -> CleanResult:
    """Apply the cleaning rules to the tables, in the order documented in this module.

    Parameters
    ----------
    tables : mapping of str to LoadedTable, DataFrame or ResidentFrame
        Canonical tables by contract name (never modified). A resident table
        (:class:`~workbench.core.resident.ResidentFrame`, also as a ``LoadedTable.frame``) is
        cleaned in the engine (:mod:`workbench.data.cleaning_engine`): the same rules, the same
        log, the cleaned table written as Parquet and returned resident.
    as_of : date-like or None
        Analysis date; recorded only. It is *not* a cutoff: later rows are kept for labels.
    launch_date : date-like, optional
        When the business started; earlier dates are "pre-launch". Without it that rule is
        skipped.
    data_end : date-like, optional
        Last plausible day of the data; later dates are "future". Default: today.
    con : ibis backend, optional
        The engine for resident tables (``ctx.engine``); default a new DuckDB, closed at the end.
        Unused without resident tables.
    out_dir : path, optional
        Folder for the cleaned resident tables (``clean_<name>.parquet``); default a new
        temporary folder.
    **rules
        The rules, the fields of :class:`CleaningRules` (``drop_exact_duplicates``,
        ``duplicate_keys``, ``orphan_orders``, ``negative_amounts``, ``out_of_range_dates``, ``future_dates``,
        ``prelaunch_dates``, ``extreme_spenders``, ``extreme_spender_mad_z``,
        ``missing_required``, ``impute``): the names of the params section ``cleaning``. Rules
        not given keep their defaults.

    Returns
    -------
    CleanResult
        ``.tables`` (cleaned frames, same table names; a resident table as a ``ResidentFrame``)
        and ``.log()``.

    Raises
    ------
    ContractError
        ``duplicate_keys="error"`` and a key is duplicated (names the table, key column, rows,
        examples and ``duplicate_keys=``); an ``impute`` entry names an unknown column or a rule
        that does not fit the column's type.
    TypeError
        An unknown rule (with a did-you-mean).
    ValueError
        A rule's value is not one of its choices.

    Examples
    --------
    >>> res = clean_tables(tables, as_of=params.as_of, launch_date=params.launch_date,
    ...                    **params.cleaning.model_dump())  # doctest: +SKIP
    >>> res.log()  # doctest: +SKIP
    """
    applied = CleaningRules.of(**rules)
    frames: dict[str, pd.DataFrame] = {}
    resident: dict[str, ResidentFrame] = {}
    for name, t in tables.items():
        frame = t.frame if isinstance(t, LoadedTable) else t
        if isinstance(frame, ResidentFrame):
            resident[name] = frame
            continue
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"tables[{name!r}] must be a LoadedTable, a DataFrame or a ResidentFrame, got {type(t).__name__}")
        frames[name] = frame.copy()
    rows_in = {k: len(resident.get(k, frames.get(k))) for k in tables}
    end = _default_data_end(data_end)
    launch = to_timestamp(launch_date)
    log = _Log()
    if resident:
        from workbench.data.cleaning_engine import clean_resident

        mixed = {k: resident.get(k, frames.get(k)) for k in tables}
        return CleanResult(
            tables=clean_resident(mixed, applied, log, data_end=end, launch=launch, con=con, out_dir=out_dir),
            log_frame=log.frame(), rules=applied, as_of=to_timestamp(as_of), data_end=end, launch_date=launch,
            rows_in=rows_in,
        )  # fmt: skip

    steps = [
        lambda: _step_exact_duplicates(frames, applied, log),
        lambda: _step_out_of_range_dates(frames, applied, log),
        lambda: _step_missing_required(frames, applied, log),
        lambda: _step_duplicate_keys(frames, applied, log),
        lambda: _step_dates(frames, rule="future_dates", mode=applied.future_dates, bound=end, after=True, log=log),
        lambda: _step_dates(frames, rule="prelaunch_dates", mode=applied.prelaunch_dates, bound=launch, after=False, log=log),
        lambda: _step_negative_amounts(frames, applied, log),
        lambda: _step_orphans(frames, applied, log),
        lambda: _step_extreme(frames, applied, log),
        lambda: _step_impute(frames, applied, log),
    ]
    for i, step in enumerate(steps, start=1):
        log.step = i
        step()
    out = {k: v.reset_index(drop=True) for k, v in frames.items()}
    return CleanResult(
        tables=out,
        log_frame=log.frame(),
        rules=applied,
        as_of=to_timestamp(as_of),
        data_end=end,
        launch_date=launch,
        rows_in=rows_in,
    )
