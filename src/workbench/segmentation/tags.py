"""The customer tag table for the CRM system and the ``segments`` artifact for later analyses."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError
from workbench.core.io import write_excel_csv
from workbench.core.privacy import pseudonymize
from workbench.data.frames import need_columns
from workbench.report.i18n import category
from workbench.segmentation._common import (
    check_unique_ids,
    eval_condition,
    rank_scores,
)
from workbench.segmentation.clustering import ClusterResult, cluster_label
from workbench.segmentation.pareto import ABCResult
from workbench.segmentation.rfm import RFMResult

__all__ = ["tag_table", "tag_preview", "write_tags", "segment_artifact"]

_P_ALIVE_BANDS = ["<20%", "20-50%", "50-80%", ">80%"]


def _deciles(values: pd.Series) -> pd.array:
    """1..10 (10 = highest) from average-rank percentiles; ties share a decile; missing stays."""
    v = pd.to_numeric(values, errors="coerce")
    out = pd.array(np.zeros(len(v), dtype=np.int64), dtype="Int64")
    ok = v.notna().to_numpy()
    if ok.any():
        out[ok] = rank_scores(v[ok], 10)
    out[~ok] = pd.NA
    return out


def tag_table(
    features: pd.DataFrame,
    *,
    abc: ABCResult,
    rfm: RFMResult,
    clusters: ClusterResult | None = None,
    clv: pd.DataFrame | None = None,
    tags: Mapping[str, str],
    allow_raw_keys: bool = False,
    salt: str = "crm-workbench",
    include_features: bool = False,
    customers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per customer with every segment label and the analyst's rule tags.

    Columns: ``customer_id`` (pseudonymized with ``salt`` by
    :func:`workbench.core.privacy.pseudonymize` unless ``allow_raw_keys``), ``abc_class``,
    ``r``, ``f``, ``m``, ``rfm_segment``, ``cluster``, ``cluster_name`` (with ``clusters``),
    ``clv``, ``clv_decile`` (1-10, 10 = highest; ties share a decile), ``p_alive`` and
    ``p_alive_band`` (``"<20%"``, ``"20-50%"``, ``"50-80%"``, ``">80%"``; when ``clv`` has a
    ``p_alive`` column), ``preferred_channel`` (when in the features), ``marketing_consent``
    (when ``customers`` has it), then one boolean column per tag.

    **Consent.** The tag table describes every customer for the CRM system; it is not a contact
    list, so customers without marketing consent keep their tags (service, reporting and
    suppression need them too). When the customers carry ``marketing_consent`` it is copied as a
    nullable boolean column (missing = unknown) so that any campaign selection made from the tags
    can drop ``marketing_consent == False``; rules may use it too
    (``"lapsed_vip and marketing_consent == True"``). Tag rules are evaluated with :meth:`pandas.DataFrame.eval` on these columns plus all
    feature columns (``"monetary_sum > 5000 and rfm_segment == 'at risk'"``); missing -> False.

    Parameters
    ----------
    features : pandas.DataFrame
        Customer features (one row per customer; defines the rows).
    abc : ABCResult
    rfm : RFMResult
    clusters : ClusterResult, optional
    clv : pandas.DataFrame, optional
        ``customer_id`` and ``clv`` (e.g. :func:`simple_clv`), optionally ``p_alive``.
    tags : mapping of str to str
        Tag name -> rule (``analyses.segmentation.tags``).
    allow_raw_keys : bool, default False
        Keep the raw customer keys (``privacy.allow_raw_keys``).
    salt : str, default "crm-workbench"
        Secret mixed into the pseudonyms (``privacy.salt``; the params default).
    include_features : bool, default False
        Also return the feature columns.
    customers : pandas.DataFrame, optional
        Canonical customers; only their ``marketing_consent`` column is used (absent: no column
        and nothing said).

    Returns
    -------
    pandas.DataFrame
        One row per customer of ``features``, in its order.

    Raises
    ------
    AnalysisError
        A rule with an unknown column (lists the available columns) or that cannot be evaluated,
        a tag name clashing with a column (naming ``analyses.segmentation.tags.<name>``), or a
        ``clv`` frame without ``clv``.
    """
    need_columns(features, ["customer_id"], what="tag table")
    check_unique_ids(features, what="tag table")
    ids = features["customer_id"]
    out = pd.DataFrame({"customer_id": ids.to_numpy()})
    a = abc.table.set_index("customer_id")["abc_class"]
    out["abc_class"] = a.reindex(ids).to_numpy()
    out["abc_class"] = pd.Categorical(out["abc_class"], categories=abc.classes, ordered=True)
    rt = rfm.table.set_index("customer_id")
    for c in ("r", "f", "m"):
        out[c] = rt[c].reindex(ids).array
    out["rfm_segment"] = pd.Categorical(rt["segment"].reindex(ids).to_numpy(),
                                        categories=list(rt["segment"].cat.categories))
    if clusters is not None:
        lt = clusters.labels.set_index("customer_id")
        out["cluster"] = lt["cluster"].reindex(ids).array
        out["cluster_name"] = pd.Categorical(lt["cluster_name"].reindex(ids).to_numpy(),
                                             categories=list(lt["cluster_name"].cat.categories))
    if clv is not None:
        if "customer_id" not in clv.columns or "clv" not in clv.columns:
            raise AnalysisError(
                f"the clv frame needs columns customer_id and clv (has {', '.join(map(str, clv.columns))})"
            )
        ct = clv.drop_duplicates("customer_id").set_index("customer_id")
        out["clv"] = pd.to_numeric(ct["clv"].reindex(ids), errors="coerce").to_numpy(dtype=float)
        out["clv_decile"] = _deciles(out["clv"])
        if "p_alive" not in ct.columns and "probability_alive" in ct.columns:
            ct = ct.rename(columns={"probability_alive": "p_alive"})  # value.customer_value's name
        if "p_alive" in ct.columns:
            p = pd.to_numeric(ct["p_alive"].reindex(ids), errors="coerce").to_numpy(dtype=float)
            out["p_alive"] = p
            band = np.select([p < 0.2, p < 0.5, p <= 0.8, p > 0.8], _P_ALIVE_BANDS, default="")
            out["p_alive_band"] = pd.Categorical(np.where(np.isnan(p), None, band), categories=_P_ALIVE_BANDS,
                                                 ordered=True)
    if "preferred_channel" in features.columns:
        out["preferred_channel"] = features["preferred_channel"].to_numpy()
    if customers is not None and "marketing_consent" in customers.columns and "customer_id" in customers.columns:
        consent = customers.drop_duplicates("customer_id").set_index("customer_id")["marketing_consent"]
        out["marketing_consent"] = consent.reindex(ids).astype("boolean").array
    extra = [c for c in features.columns if c not in out.columns]
    ev = pd.concat([out, features[extra].reset_index(drop=True)], axis=1)
    _step_rule_tags(out, ev, tags)
    if include_features:
        out = pd.concat([out, features[extra].reset_index(drop=True)], axis=1)
    if not allow_raw_keys:
        out["customer_id"] = pseudonymize(out["customer_id"], salt=salt)
    return out


def _step_rule_tags(out: pd.DataFrame, ev: pd.DataFrame, tags: Mapping[str, str]) -> None:
    """Evaluate each tag rule on ``ev`` (labels and features); add the boolean column to ``out``
    and ``ev`` (later rules may use earlier tags)."""
    available = ", ".join(ev.columns)
    for name, rule in tags.items():
        key = f"tags= (tag {name!r})"
        if name in ev.columns:
            raise AnalysisError(f"tag name {name!r} is already a column of the tag table; rename it in {key}")
        val = eval_condition(
            ev, rule, what=f"tag {name!r}", key=key, empty="the rule must be a non-empty condition text",
            unknown=f"refers to an unknown column ({{err}}); available columns: {available}", constant_ok=False,
        )  # fmt: skip
        out[name] = val
        ev[name] = val


def tag_preview(frame: pd.DataFrame, *, rows: int = 10) -> pd.DataFrame:
    """The first rows of a tag table as a reader sees them: the classes and segments the
    workbench makes in the run's language (the table itself, and its files, keep the codes).

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`tag_table`.
    rows : int, default 10

    Returns
    -------
    pandas.DataFrame
    """
    out = frame.head(rows).copy()
    groups = {"abc_class": "abc_class", "rfm_segment": "rfm_segment", "p_alive_band": "p_alive_band"}
    for col, group in groups.items():
        if col in out.columns:
            out[col] = out[col].astype(object).map(lambda v, g=group: v if pd.isna(v) else category(g, v))
    if "cluster_name" in out.columns:
        out["cluster_name"] = out["cluster_name"].astype(object).map(cluster_label)
    return out


def write_tags(frame: pd.DataFrame, folder: str | Path, *, name: str = "customer_tags") -> dict[str, Path]:
    """Write a tag table as CSV (UTF-8 with BOM, opens in Excel with Chinese intact) and Parquet.

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`tag_table`.
    folder : str or Path
        Folder (created if missing).
    name : str, default "customer_tags"
        File stem.

    Returns
    -------
    dict
        ``{"csv": path, "parquet": path}``.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, pq_path = out / f"{name}.csv", out / f"{name}.parquet"
    write_excel_csv(frame, csv_path)
    frame.to_parquet(pq_path, index=False)
    return {"csv": csv_path, "parquet": pq_path}


def segment_artifact(
    features: pd.DataFrame,
    *,
    abc: ABCResult,
    rfm: RFMResult,
    clusters: ClusterResult | None = None,
    clv: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per customer (raw key, for joins by later analyses): ABC class, RFM scores and
    segment, cluster, and CLV columns when given. Written as the ``segments`` artifact."""
    out = features[["customer_id"]].copy()
    out = out.merge(abc.table[["customer_id", "abc_class"]], on="customer_id", how="left")
    r = rfm.table.rename(columns={"segment": "rfm_segment"})
    rfm_cols = [c for c in ("customer_id", "r", "f", "m", "rfm_segment") if c in r]
    out = out.merge(r[rfm_cols], on="customer_id", how="left")
    if clusters is not None:
        out = out.merge(clusters.labels[["customer_id", "cluster", "cluster_name"]], on="customer_id", how="left")
    if clv is not None:
        wanted = ("customer_id", "clv", "probability_alive", "expected_purchases", "expected_order_value")
        keep = [c for c in wanted if c in clv]
        out = out.merge(clv[keep], on="customer_id", how="left")
    return out
