"""Journeys: each customer's touchpoints split at conversions (Ibis expressions: DuckDB or Spark).

Definition
----------
Touchpoints are the ``events`` whose ``event_name`` is one of ``touch_events`` and/or the
``campaign_contacts`` (their ``contact_time`` and ``channel``). Conversions are purchase lines of
``orders`` (:func:`workbench.data.orders.purchase_mask`; or the events named
``conversion_event``) in the ``period_days`` before the data end. A touch belongs to the
customer's next conversion when it is at most ``lookback_days`` before it (a touch at the very
time of a conversion counts for it); the customer's other touches between two conversions form
one non-converting journey. So every conversion has at most one journey and a customer has at
most one non-converting journey per gap between conversions.

Everything up to the per-journey table runs in the engine: the union of touches and
conversions, a running count of conversions per customer (a window), a join back to the
conversion, per-touch position, the rule-based credits and the ordered path (window functions:
ordered aggregations do not run on Spark), then one row per journey and one per journey and
channel come back to pandas. The model maths works on those.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError, DataQualityWarning, format_examples
from workbench.data.engine import as_table, close, connect
from workbench.data.orders import purchase_mask
from workbench.report.fmt import count
from workbench.report.i18n import t

__all__ = ["Journeys", "OTHER", "build_journeys", "touchpoints"]

#: Label of the lumped rare channels.
OTHER = "other"
_DOW = 7


@dataclass(frozen=True)
class Journeys:
    """Journeys and their touches (see :func:`build_journeys`).

    Attributes
    ----------
    journeys : pandas.DataFrame
        One row per journey: ``jid``, ``customer_id``, ``converted``, ``value`` (revenue of the
        conversion, 0 without), ``margin``, ``conv_time`` (NaT without), ``first_time``,
        ``last_time``, ``n_touches``, ``path`` (channels joined by " > "), ``last_hour``,
        ``last_weekday`` (0 = Monday) of the last touch.
    credits : pandas.DataFrame
        One row per journey and channel: ``jid``, ``channel``, and the rule-based credit of the
        channel in the journey (summing to 1 per journey): ``first_touch``, ``last_touch``,
        ``last_non_direct``, ``linear``, ``time_decay``, ``position_based``.
    transitions : pandas.DataFrame
        ``from``, ``to``, ``n``: consecutive touches of the journeys (``(start)`` and
        ``(conversion)`` / ``(no conversion)`` included).
    channels : tuple of str
        The channels, by touches (most first).
    untracked_conversions : int
        Conversions in the period without any touch in their lookback.
    conversions : int
        All conversions in the period.
    lumped : tuple of str
        Channel labels lumped into :data:`OTHER`.
    lookback_days, period_start, period_end
        Settings used.
    """

    journeys: pd.DataFrame
    credits: pd.DataFrame
    transitions: pd.DataFrame
    channels: tuple[str, ...]
    untracked_conversions: int
    conversions: int
    lumped: tuple[str, ...]
    lookback_days: float
    period_start: pd.Timestamp
    period_end: pd.Timestamp


def touchpoints(
    events: pd.DataFrame | None, contacts: pd.DataFrame | None, *, sources: list[str] | None, touch_events: list[str]
) -> pd.DataFrame:
    """The touchpoints as one frame ``customer_id``, ``t``, ``channel``, ``campaign_id``.

    Raises
    ------
    AnalysisError
        No touchpoints at all; no touchpoint with a timestamp; no channel column (touchpoints
        with some timestamps missing are dropped with a warning naming rows and examples).
    """
    if sources is None:
        has = events is not None and "event_name" in events and events["event_name"].isin(touch_events).any()
        sources = ["events"] if has else (["campaign_contacts"] if contacts is not None else ["events"])
    parts = []
    for src in sources:
        frame = events if src == "events" else contacts
        if frame is None:
            raise AnalysisError(f"{src}: the table is not loaded; load it or drop it from sources= (sources={sources})")
        if src == "events":
            frame = frame.loc[frame["event_name"].isin(touch_events)] if "event_name" in frame else frame.iloc[:0]
            tcol = "event_time"
        else:
            tcol = "contact_time"
        for col in ("customer_id", tcol, "channel"):
            if col not in frame.columns:
                raise AnalysisError(f"{src}: column {col!r} is needed for touchpoints; map it in tables.{src}.columns "
                                    f"or drop {src!r} from sources=")  # fmt: skip
        bad = frame[tcol].isna()
        if bad.all() and len(frame):
            raise AnalysisError(
                f"{src}.{tcol}: none of the {len(frame):,} touchpoints has a timestamp (customers "
                f"{format_examples(frame['customer_id'])}); a journey needs the order of its touches: fix the file, "
                f"map the time column in tables.{src}.columns, or drop {src!r} from sources="
            )
        if bad.any():
            warnings.warn(t("attribution.warn.no_time", table=src, column=tcol, n=count(int(bad.sum())),
                            total=count(len(frame)), examples=format_examples(frame.loc[bad, "customer_id"])),
                          DataQualityWarning, stacklevel=3)  # fmt: skip
            frame = frame.loc[~bad]
        camp = frame["campaign_id"] if "campaign_id" in frame else pd.Series(None, index=frame.index, dtype="object")
        parts.append(pd.DataFrame({
            "customer_id": frame["customer_id"].astype("string").to_numpy(dtype=object),
            "t": pd.to_datetime(frame[tcol]).to_numpy(),
            "channel": frame["channel"].astype("string").fillna("(missing)").to_numpy(dtype=object),
            "campaign_id": camp.astype("string").to_numpy(dtype=object),
        }))  # fmt: skip
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if out.empty:
        raise AnalysisError(
            f"no touchpoints: no events named {touch_events} and no campaign contacts (sources={sources}); "
            "set touch_events= to the event names of your marketing touches or load campaign_contacts"
        )
    return out


def _lump(touches: pd.DataFrame, max_channels: int) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Channels beyond the ``max_channels - 1`` most touched become :data:`OTHER` (with a warning)."""
    n = touches["channel"].value_counts()
    if len(n) <= max_channels:
        return touches, ()
    keep = set(n.index[: max_channels - 1])
    lumped = tuple(str(c) for c in n.index[max_channels - 1 :])
    share = n.iloc[max_channels - 1 :].sum() / n.sum()
    warnings.warn(t("attribution.warn.lumped", n=count(len(n)), kept=count(max_channels - 1),
                    lumped=count(len(lumped)), share=f"{100 * share:.1f} %", examples=format_examples(lumped)),
                  DataQualityWarning, stacklevel=3)  # fmt: skip
    return touches.assign(channel=touches["channel"].where(touches["channel"].isin(keep), OTHER)), lumped


def _conversions(orders: pd.DataFrame, events: pd.DataFrame | None, conversion_event: str | None,
                 margin: float) -> pd.DataFrame:  # fmt: skip
    """Conversions ``customer_id``, ``t``, ``value``, ``margin`` (purchase lines or conversion events)."""
    if conversion_event is not None:
        if events is None or not events["event_name"].eq(conversion_event).any():
            raise AnalysisError(f"events: no event named {conversion_event!r}; set conversion_event= to one of "
                                f"{format_examples(events['event_name'].unique()) if events is not None else '[]'} "
                                "or leave it empty to use the orders")  # fmt: skip
        e = events.loc[events["event_name"].eq(conversion_event)]
        return pd.DataFrame({"customer_id": e["customer_id"].astype("string").to_numpy(dtype=object),
                             "t": pd.to_datetime(e["event_time"]).to_numpy(), "value": 0.0, "margin": 0.0})  # fmt: skip
    for col in ("customer_id", "order_time", "amount"):
        if col not in orders.columns:
            raise AnalysisError(f"orders: column {col!r} is needed for conversions; map it in tables.orders.columns "
                                "or set conversion_event=")  # fmt: skip
    o = orders.loc[purchase_mask(orders) & orders["order_time"].notna()]
    amount = o["amount"].astype("float64")
    m = o["margin"].astype("float64").fillna(amount * margin) if "margin" in o else amount * margin
    return pd.DataFrame({"customer_id": o["customer_id"].astype("string").to_numpy(dtype=object),
                         "t": pd.to_datetime(o["order_time"]).to_numpy(), "value": amount.to_numpy(),
                         "margin": m.to_numpy()})  # fmt: skip


def _touch_expr(tt: ir.Table, cc: ir.Table, *, lookback_days: float, direct: list[str],
                half_life_days: float, weights: tuple[float, float, float]) -> ir.Table:  # fmt: skip
    """Per touch: journey key, position, count and the rule-based credits (engine)."""
    u = tt.select(customer_id=tt.customer_id, t=tt.t, channel=tt.channel, is_conv=ibis.literal(0))
    u = u.union(cc.select(customer_id=cc.customer_id, t=cc.t, channel=ibis.literal("").cast("string"),
                          is_conv=ibis.literal(1)))  # fmt: skip
    w = ibis.window(group_by=u.customer_id, order_by=[u.t, u.is_conv], rows=(None, 0))
    u = u.mutate(k=u.is_conv.sum().over(w))
    touch = u.filter(u.is_conv == 0)
    conv = cc.mutate(k=ibis.row_number().over(ibis.window(group_by=cc.customer_id, order_by=cc.t)) + 1)
    j = touch.left_join(conv, [touch.customer_id == conv.customer_id, (touch.k + 1) == conv.k])
    lag_s = (j.t_right.epoch_seconds() - j.t.epoch_seconds()).cast("float64")
    inwin = j.t_right.notnull() & (lag_s <= lookback_days * 86400.0)
    j = j.select(customer_id=j.customer_id, t=j.t, channel=j.channel, k=j.k, conv=inwin.cast("int8"),
                 lag_days=ibis.ifelse(inwin, lag_s / 86400.0, ibis.null("float64")))  # fmt: skip
    wj = ibis.window(group_by=[j.customer_id, j.k, j.conv], order_by=j.t)
    g = ibis.window(group_by=[j.customer_id, j.k, j.conv])
    j = j.mutate(pos=ibis.row_number().over(wj) + 1, n=j.t.count().over(g),
                 nd=ibis.ifelse(j.channel.isin(direct), 0, 1))  # fmt: skip
    j = j.mutate(nd_last=ibis.ifelse(j.nd == 1, j.pos, 0).max().over(g),
                 decay=(-(j.lag_days.fill_null(0.0)) * np.log(2) / half_life_days).exp())  # fmt: skip
    j = j.mutate(decay_sum=j.decay.sum().over(g))
    f, mid, last = weights
    one = j.n == 1
    two = j.n == 2
    pb = ibis.ifelse(one, 1.0, ibis.ifelse(two, ibis.ifelse(j.pos == 1, f / (f + last), last / (f + last)),
                     ibis.ifelse(j.pos == 1, f, ibis.ifelse(j.pos == j.n, last, mid / (j.n - 2).cast("float64")))))
    lnd_pos = ibis.ifelse(j.nd_last > 0, j.nd_last, j.n)
    return j.mutate(
        first_touch=(j.pos == 1).cast("float64"), last_touch=(j.pos == j.n).cast("float64"),
        last_non_direct=(j.pos == lnd_pos).cast("float64"), linear=1.0 / j.n.cast("float64"),
        time_decay=j.decay / j.decay_sum, position_based=pb,
    )  # fmt: skip


_MODELS = ("first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based")


def _journey_frames(x: ir.Table, cc: ir.Table) -> tuple[ir.Table, ir.Table, ir.Table]:
    """Engine expressions of the per-journey table, the per journey and channel credits and the transitions."""
    key = ["customer_id", "k", "conv"]
    # the path as an ordered list over the whole journey (a window: ordered aggregations such as
    # group_concat(order_by=) do not run on Spark), the same on every touch of the journey
    whole = ibis.window(group_by=[x[c] for c in key], order_by=[x.t, x.pos], rows=(None, None))
    x = x.mutate(path=x.channel.collect().over(whole).join(" > "))
    jt = x.group_by(key).aggregate(
        first_time=x.t.min(), last_time=x.t.max(), n_touches=x.t.count(), path=x.path.max(),
        last_hour=x.t.max().hour(), last_dow=x.t.max().day_of_week.index(),
    )  # fmt: skip
    conv = cc.mutate(k=ibis.row_number().over(ibis.window(group_by=cc.customer_id, order_by=cc.t)) + 1)
    jt = jt.left_join(conv, [jt.customer_id == conv.customer_id, (jt.k + 1) == conv.k, jt.conv == 1])
    jt = jt.select(customer_id=jt.customer_id, k=jt.k, conv=jt.conv, first_time=jt.first_time,
                   last_time=jt.last_time, n_touches=jt.n_touches, path=jt.path, last_hour=jt.last_hour,
                   last_weekday=jt.last_dow, conv_time=jt.t, value=jt.value.fill_null(0.0),
                   margin=jt.margin.fill_null(0.0))  # fmt: skip
    cr = x.group_by([*key, "channel"]).aggregate(**{m: x[m].sum() for m in _MODELS})
    w = ibis.window(group_by=key, order_by=[x.t, x.pos])
    nx = x.mutate(nxt=x.channel.lead().over(w))
    end = ibis.ifelse(nx.conv == 1, "(conversion)", "(no conversion)")
    tr = nx.mutate(to=nx.nxt.fill_null(end), frm=ibis.ifelse(nx.pos == 1, "(start)", nx.channel))
    starts = nx.filter(nx.pos == 1).group_by(nx.channel).aggregate(n=nx.t.count())
    starts = starts.select(frm=ibis.literal("(start)"), to=starts.channel, n=starts.n)
    steps = tr.group_by([tr.channel, tr.to]).aggregate(n=tr.t.count())
    trans = starts.union(steps.select(frm=steps.channel, to=steps.to, n=steps.n))
    return jt, cr, trans


def _step_period(touches: pd.DataFrame, conv: pd.DataFrame, *, data_end: pd.Timestamp | None,
                 period_days: int, lookback_days: float) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp, pd.Timestamp]:  # fmt: skip
    """Keep conversions in the period and touches that can reach them (with the lookback)."""
    end = pd.Timestamp(data_end) if data_end is not None else max(touches["t"].max(), conv["t"].max())
    start = end - pd.Timedelta(days=period_days)
    conv = conv.loc[(conv["t"] > start - pd.Timedelta(days=lookback_days)) & (conv["t"] <= end)]
    touches = touches.loc[(touches["t"] > start - pd.Timedelta(days=lookback_days)) & (touches["t"] <= end)]
    if touches.empty:
        raise AnalysisError(f"no touchpoints between {start.date()} and {end.date()} (period_days={period_days}, "
                            "data end); widen period_days= or check the touchpoints' dates")  # fmt: skip
    return touches, conv, start, end


def build_journeys(
    events: pd.DataFrame | None,
    orders: pd.DataFrame,
    *,
    contacts: pd.DataFrame | None = None,
    sources: list[str] | None = None,
    touch_events: list[str] = ("ad_touch",),  # type: ignore[assignment]
    conversion_event: str | None = None,
    lookback_days: float = 30,
    period_days: int = 365,
    data_end: pd.Timestamp | str | None = None,
    direct_channels: list[str] = ("direct",),  # type: ignore[assignment]
    half_life_days: float = 7,
    position_weights: tuple[float, float, float] = (0.4, 0.2, 0.4),
    max_channels: int = 20,
    margin: float = 0.3,
    con: ibis.BaseBackend | None = None,
) -> Journeys:
    """Split each customer's touchpoints into journeys (see the module docstring).

    Parameters
    ----------
    events, orders, contacts : pandas.DataFrame
        Canonical tables (``events`` or ``contacts`` may be None).
    sources, touch_events, conversion_event, lookback_days, period_days, direct_channels,
    half_life_days, position_weights, max_channels, margin
        As in ``analyses.attribution``.
    data_end : Timestamp, optional
        End of the data (conversions after it are ignored); default the latest touch or order.
    con : ibis.BaseBackend, optional
        Engine; default a fresh in-memory DuckDB (closed at the end).

    Returns
    -------
    Journeys

    Raises
    ------
    AnalysisError
        No touchpoints, touchpoints without time, no conversion with a touch before it, one
        channel only.
    """
    touches = touchpoints(events, contacts, sources=list(sources) if sources else None, touch_events=list(touch_events))
    touches, lumped = _lump(touches, max_channels)
    conv = _conversions(orders, events, conversion_event, margin)
    touches, conv, start, end = _step_period(touches, conv, data_end=data_end, period_days=period_days,
                                             lookback_days=lookback_days)  # fmt: skip
    own = con is None
    con = connect() if con is None else con
    try:
        tt = as_table(con, touches[["customer_id", "t", "channel"]])
        cc = as_table(con, conv)
        x = _touch_expr(tt, cc, lookback_days=lookback_days, direct=list(direct_channels),
                        half_life_days=half_life_days, weights=tuple(position_weights))  # fmt: skip
        jt, cr, tr = _journey_frames(x, cc)
        jt = con.to_pandas(jt.order_by(["customer_id", "k", "conv"]))
        cr = con.to_pandas(cr)
        tr = con.to_pandas(tr)
    finally:
        if own:
            close(con)
    return _assemble(jt, cr, tr, touches, conv, lumped=lumped, lookback_days=lookback_days, start=start, end=end)


def _assemble(jt: pd.DataFrame, cr: pd.DataFrame, tr: pd.DataFrame, touches: pd.DataFrame, conv: pd.DataFrame, *,
              lumped: tuple[str, ...], lookback_days: float, start: pd.Timestamp, end: pd.Timestamp) -> Journeys:  # fmt: skip
    """Journey ids, converted flags and the checks on the result."""
    in_period = np.where(jt["conv"] == 1, jt["conv_time"] > start, jt["last_time"] > start)
    jt = jt.loc[in_period].reset_index(drop=True)
    jt.insert(0, "jid", np.arange(len(jt), dtype=np.int64))
    keyed = jt[["jid", "customer_id", "k", "conv"]]
    cr = cr.merge(keyed, on=["customer_id", "k", "conv"]).drop(columns=["customer_id", "k", "conv"])
    jt["converted"] = jt.pop("conv").astype(bool)
    jt = jt.drop(columns=["k"])
    n_conv = int((conv["t"] > start).sum())
    tracked = int(jt["converted"].sum())
    if tracked == 0:
        raise AnalysisError(
            f"no conversion has a touchpoint before it: {n_conv:,} conversions and {len(touches):,} touchpoints "
            f"between {start.date()} and {end.date()}, none within lookback_days={lookback_days:g} of a conversion of "
            "the same customer; widen lookback_days=, check that touchpoints and orders share customer_id, "
            "or set touch_events="
        )
    chans = touches["channel"].value_counts()
    if len(chans) < 2:
        raise AnalysisError(
            f"one channel only ({chans.index[0]!r} on {int(chans.iloc[0]):,} touchpoints): attribution shares credit "
            "between channels; add the other channels' touchpoints (sources=, touch_events=)"
        )
    if n_conv - tracked > 0:
        warnings.warn(t("attribution.warn.untracked", n=count(n_conv - tracked), total=count(n_conv),
                        share=f"{100 * (n_conv - tracked) / max(n_conv, 1):.1f} %", lookback=f"{lookback_days:g}"),
                      DataQualityWarning, stacklevel=3)  # fmt: skip
    cr = cr.sort_values(["jid", "channel"]).reset_index(drop=True)
    return Journeys(journeys=jt, credits=cr, transitions=tr, channels=tuple(str(c) for c in chans.index),
                    untracked_conversions=n_conv - tracked, conversions=n_conv, lumped=lumped,
                    lookback_days=float(lookback_days), period_start=start, period_end=end)  # fmt: skip
