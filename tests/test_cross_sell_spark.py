"""Cross-sell's engine expressions on Spark ``local[2]``: the same itemset counts, rules, sequence
rules and first-to-second category matrix as DuckDB, on a generated base with planted rules."""

from __future__ import annotations

import pandas as pd
import pytest
from engines import assert_frames_equal_across, assert_same_frame, duckdb_con, spark_con

from workbench import cross_sell as X
from workbench.synth.simulate import generate


@pytest.fixture(scope="module")
def baskets() -> X.BasketLines:
    base = generate(1500, seed=7)
    return X.basket_lines(base.orders, base.extra_tables["order_items"])


def test_itemsets_are_the_same_on_spark(baskets: X.BasketLines) -> None:
    """Pairs and triples counted by Spark equal DuckDB's, and the basket count too."""
    counts: list[int] = []

    def sets(con) -> pd.DataFrame:
        frame, n = X.rules.frequent_itemsets(baskets.lines, min_count=10, max_len=3, con=con)
        counts.append(n)
        return frame.fillna({"item_b": "", "item_c": ""})

    a, _ = assert_frames_equal_across(duckdb_con(), spark_con(), sets, by=["item_a", "item_b", "item_c"])
    assert counts[0] == counts[1] == baskets.n_baskets
    assert (a["item_c"] != "").any(), "no triple reached the count: the triple query was not compared"


def test_rules_sequences_and_transitions_are_the_same_on_spark(baskets: X.BasketLines) -> None:
    """The rule table (with its tests), sequence rules and the category matrix agree across engines."""
    duck, spark = duckdb_con(), spark_con()
    r_duck = X.association_rules(baskets, min_count=10, con=duck).to_frame()
    r_spark = X.association_rules(baskets, min_count=10, con=spark).to_frame()
    assert len(r_duck) > 0
    assert_same_frame(r_duck, r_spark, by=["antecedent", "consequent"])
    s_duck = X.sequence_rules(baskets, min_count=5, con=duck).to_frame()
    s_spark = X.sequence_rules(baskets, min_count=5, con=spark).to_frame()
    assert len(s_duck) > 0
    assert_same_frame(s_duck, s_spark, by=list(s_duck.columns[:2]))
    t_duck = X.category_transitions(baskets, con=duck).to_frame()
    t_spark = X.category_transitions(baskets, con=spark).to_frame()
    assert len(t_duck) > 0
    assert_same_frame(t_duck.reset_index(), t_spark.reset_index())
