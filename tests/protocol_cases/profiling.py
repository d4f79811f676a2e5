"""Protocol cases of ``workbench.profiling``: one small instance of each result."""

from __future__ import annotations

from functools import lru_cache

from protocol_cases._data import AS_OF, table
from workbench import profiling
from workbench.core.contract import TABLES, LoadedTable, apply_contract
from workbench.core.pii import PersonalColumn


def _loaded(name: str, rows: int = 400) -> LoadedTable:
    frame = table(name).head(rows)
    return apply_contract(frame, name, columns={c: c for c in frame.columns if c in TABLES[name].names})


@lru_cache(maxsize=1)
def _profile() -> profiling.DataProfile:
    tables = {name: _loaded(name) for name in ("customers", "orders", "tickets")}
    return profiling.profile_tables(tables, as_of=AS_OF, launch_date="2020-01-01", random_state=0)


def _table_profile() -> profiling.TableProfile:
    return _profile().profiles["orders"]


def _service() -> profiling.ServiceKPIs:
    return profiling.service_kpis(table("tickets"))


def _personal() -> profiling.PersonalDataReport:
    cols = [PersonalColumn("customers", "phone", "手机号", "phone", "contract", 1.0, 400, "mask"),
            PersonalColumn("orders", "收货地址", "收货地址", "address", "header", None, 0, "drop")]  # fmt: skip
    return profiling.personal_data_section(cols, allow_personal_data=False, default_secret=True)


CASES = {
    profiling.DataProfile: _profile,
    profiling.TableProfile: _table_profile,
    profiling.ServiceKPIs: _service,
    profiling.PersonalDataReport: _personal,
}
