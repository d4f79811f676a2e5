"""Basket lines: one row per (purchase order, item) at the analysis level, from ``order_items`` or
the category on each order line (:func:`basket_lines`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from workbench.core.errors import AnalysisError, format_examples
from workbench.data.orders import purchase_mask

__all__ = ["BasketLines", "basket_lines"]

LINE_COLUMNS = ["order_id", "customer_id", "order_time", "item", "value"]


@dataclass(frozen=True)
class BasketLines:
    """Purchase lines at one level (plain data, not a result).

    Attributes
    ----------
    lines : pandas.DataFrame
        ``order_id``, ``customer_id``, ``order_time``, ``item``, ``value`` (line amount); one row per
        order and item (quantities of one item in one order summed).
    level : str
        ``product`` or ``category``.
    source : str
        ``order_items`` or ``orders.product_category``.
    """

    lines: pd.DataFrame
    level: str
    source: str

    @property
    def n_baskets(self) -> int:
        """Purchase orders with at least one item."""
        return int(self.lines["order_id"].nunique())

    @property
    def has_pairs(self) -> bool:
        """Whether any basket holds two different items (else there is no market basket)."""
        return bool((self.lines.groupby("order_id", observed=True)["item"].nunique() >= 2).any())

    def top_item(self) -> str:
        """The item in most baskets."""
        return str(self.lines.groupby("item", observed=True)["order_id"].nunique().idxmax())

    @property
    def last_day(self) -> pd.Timestamp:
        """Day of the last purchase line."""
        return pd.Timestamp(self.lines["order_time"].max()).normalize()

    @property
    def n_items(self) -> int:
        """Distinct items."""
        return int(self.lines["item"].nunique())


def basket_lines(
    orders: pd.DataFrame,
    order_items: pd.DataFrame | None = None,
    *,
    level: Literal["auto", "product", "category"] = "auto",
    max_items: int = 2000,
) -> BasketLines:
    """The basket lines of the purchase orders at the analysis level.

    Parameters
    ----------
    orders : pandas.DataFrame
        Canonical (cleaned) orders; refunds are left out.
    order_items : pandas.DataFrame, optional
        Canonical order lines (``order_id``, ``product_id``, ``product_name``, ``category``,
        ``price``); without them each order is one basket line of its ``product_category``.
    level : {'auto', 'product', 'category'}, default 'auto'
        ``auto``: product when ``order_items`` is given, else category.
    max_items : int, default 2000
        More distinct products than this stop with a hint to use the category level.

    Returns
    -------
    BasketLines

    Raises
    ------
    AnalysisError
        No category column for the level asked; too many products at product level.

    Examples
    --------
    >>> o = pd.DataFrame({"order_id": ["o1", "o2"], "customer_id": ["a", "b"], "amount": [10.0, 5.0],
    ...     "order_time": pd.to_datetime(["2025-01-01", "2025-01-02"]), "product_category": ["食品", "数码"]})
    >>> basket_lines(o).lines["item"].tolist()
    ['食品', '数码']
    """
    buy = orders.loc[purchase_mask(orders), ["order_id", "customer_id", "order_time", "amount"]
                     + (["product_category"] if "product_category" in orders else [])]
    if level == "auto":
        level = "product" if order_items is not None else "category"
    if order_items is None:
        return _from_orders(buy, level, n_orders=len(orders))
    return _from_items(buy, order_items, level, max_items=max_items)


def _from_orders(buy: pd.DataFrame, level: str, *, n_orders: int) -> BasketLines:
    if level == "product":
        raise AnalysisError(
            "level='product' needs the order_items table (order_id, product_id, category, price); none is "
            "mapped in tables: - add order_items or use level=category (analysis level)"
        )
    if "product_category" not in buy.columns or buy["product_category"].isna().all():
        raise AnalysisError(
            f"orders ({n_orders:,} rows) has no product_category column (or it is empty) and there is no "
            "order_items table: a market basket needs the category on each order line or the order lines "
            "themselves - map orders.product_category or add order_items (or set level=)"
        )
    lines = buy.dropna(subset=["product_category"]).rename(columns={"product_category": "item", "amount": "value"})
    lines = lines.groupby(["order_id", "customer_id", "order_time", "item"], as_index=False, observed=True)["value"].sum()
    return BasketLines(lines[LINE_COLUMNS], "category", "orders.product_category")


def _from_items(buy: pd.DataFrame, items: pd.DataFrame, level: str, *, max_items: int) -> BasketLines:
    if level == "category":
        if "category" not in items.columns or items["category"].isna().all():
            raise AnalysisError(
                f"order_items ({len(items):,} rows) has no category column (or it is empty): map "
                "order_items.category, or use level=product"
            )
        col = "category"
    else:
        col = "product_name" if "product_name" in items.columns and items["product_name"].notna().any() else "product_id"
        n = int(items[col].nunique())
        if n > max_items:
            raise AnalysisError(
                f"order_items.{col}: {n:,} distinct products (more than max_items={max_items:,}, e.g. "
                f"{format_examples(items[col].dropna().unique()[:5])}); pairs of that many products are too "
                "sparse to test - use level=category (analysis level) or raise basket.max_items="
            )
    value = items["price"] if "price" in items.columns else pd.Series(0.0, index=items.index)
    it = pd.DataFrame({"order_id": items["order_id"], "item": items[col], "value": pd.to_numeric(value, errors="coerce")})
    it = it.dropna(subset=["item"]).merge(buy[["order_id", "customer_id", "order_time"]], on="order_id", how="inner")
    lines = it.groupby(["order_id", "customer_id", "order_time", "item"], as_index=False, observed=True)["value"].sum()
    return BasketLines(lines[LINE_COLUMNS], level, "order_items")
