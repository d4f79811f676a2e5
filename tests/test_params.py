"""Params validation: every problem named by key path, with did-you-mean."""

from __future__ import annotations

import pytest
import yaml

from workbench.core.errors import ParamsError
from workbench.run.params import load_params, params_from_dict


def _base(tmp_path):
    f = tmp_path / "o.csv"
    f.write_text("a,b,c,d\n")
    return {"name": "t", "as_of": "2024-12-31",
            "tables": {"orders": {"path": str(f), "columns": {"order_id": "a", "customer_id": "b", "order_time": "c", "amount": "d"}}}}


def test_valid_params_and_relative_paths(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "o.csv").write_text("a\n")
    (tmp_path / "p").mkdir()
    doc = _base(tmp_path)
    doc["tables"]["orders"]["path"] = "../data/o.csv"
    (tmp_path / "p" / "x.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    p = load_params(tmp_path / "p" / "x.yaml")
    assert p.resolve(p.tables["orders"].path) == (tmp_path / "data" / "o.csv").resolve()
    assert p.enabled_analyses() == ["data_profiling"]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.update(tabels=d.pop("tables")), "did you mean 'tables'"),
        (lambda d: d.update(seeed=1), "seeed: unknown key; did you mean 'seed'"),
        (lambda d: d["tables"]["orders"].update(colums={}), "tables.orders.colums: unknown key; did you mean 'tables.orders.columns'"),
        (lambda d: d.update(analyses={"data_profling": {}}), "did you mean 'analyses.data_profiling'"),
        (lambda d: d["tables"].update(order=d["tables"]["orders"]), "unknown table(s) 'order' (did you mean 'orders'?)"),
        (lambda d: d.update(as_of="31/12/2024"), "as_of:"),
        (lambda d: d.update(seed="abc"), "seed: Input should be a valid integer"),
        (lambda d: d.update(cleaning={"orphan_orders": "remove"}), "cleaning.orphan_orders: Input should be 'drop', 'flag' or 'keep'"),
        (lambda d: d.update(analyses={"data_profiling": {"top_n": 0}}), "analyses.data_profiling.top_n"),
        (lambda d: d.update(launch_date="2030-01-01"), "launch_date 2030-01-01 is after as_of"),
    ],
)
def test_bad_params_named(tmp_path, mutate, expected):
    doc = _base(tmp_path)
    mutate(doc)
    with pytest.raises(ParamsError) as err:
        params_from_dict(doc, base_dir=tmp_path, source="x.yaml")
    assert expected in str(err.value), str(err.value)
    assert "x.yaml" in str(err.value)


def test_not_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(bad)
    with pytest.raises(ParamsError, match="params file not found"):
        load_params(tmp_path / "missing.yaml")


def test_bundled_params_files_are_valid(root):
    for f in sorted((root / "params").glob("*.yaml")):
        p = load_params(f)
        assert p.name == f.stem
