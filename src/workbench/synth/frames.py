"""The canonical contract tables built from the simulated arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.core.contract import TABLES
from workbench.synth._common import _Clock, _ids, _join, _num_str, _str, _take
from workbench.synth.spec import (
    _EMAIL_DOMAINS,
    _GIVEN_FEMALE,
    _GIVEN_MALE,
    _PHONE_SECOND,
    _SURNAMES,
    ACQUISITION_CHANNELS,
    CAMPAIGN_SPEC,
    CATEGORY_SPEC,
    CHANNELS,
    CITIES,
    FUNNEL_STEP_CONVERSION,
    FUNNEL_STEPS,
    GENDERS,
    MEMBER_LEVELS,
    TICKET_CHANNELS,
)


def _frames(
    cust: dict[str, np.ndarray],
    lines: dict[str, np.ndarray],
    contacts: dict[str, np.ndarray],
    tickets: dict[str, np.ndarray],
    events: dict[str, np.ndarray],
    cid: pa.Array,
    clock: _Clock,
) -> dict[str, pd.DataFrame]:
    """The five canonical tables from the simulated arrays (``cid``: the customer ids)."""
    return {
        "customers": _customers_frame(cust, cid, clock),
        "orders": _orders_frame(lines, cid, clock),
        "campaign_contacts": _contacts_frame(contacts, cid, clock),
        "events": _events_frame(events, cid, clock),
        "tickets": _tickets_frame(tickets, cid, clock),
    }


def _customers_frame(cust: dict[str, np.ndarray], cid: pa.Array, clock: _Clock) -> pd.DataFrame:
    """Customers: fake names, phones and e-mails, birth and sign-up dates, covariates."""
    male = cust["gender"] == list(GENDERS).index("男")
    g_m, g_f = np.array(_GIVEN_MALE), np.array(_GIVEN_FEMALE)
    given1 = np.where(male, g_m[cust["given1"] % g_m.size], g_f[cust["given1"] % g_f.size])
    given2 = np.where(male, g_m[cust["given2"] % g_m.size], g_f[cust["given2"] % g_f.size])
    given2 = np.where(cust["given_len"] == 2, given2, "")
    surnames = np.array([s[0] for s in _SURNAMES])[cust["surname"]]
    name = np.strings.add(np.strings.add(surnames, given1), given2)
    phone = _num_str(
        10_000_000_000
        + np.array(_PHONE_SECOND)[cust["phone2"]] * 1_000_000_000
        + cust["phone_rest"]
    )
    pinyin = _take([s[1] for s in _SURNAMES], cust["surname"])
    local = pc.if_else(
        pa.array(cust["email_kind"] == 1),
        _num_str(cust["email_num"]),
        _join(pinyin, _num_str(cust["email_num"] % 100_000)),
    )
    domain = np.where(cust["email_kind"] == 1, 0, cust["email_domain"])
    email = _join(local, "@", _take(list(_EMAIL_DOMAINS), domain))
    birth = clock.to_datetime(cust["birth"])
    signup = clock.to_datetime(cust["signup"])
    as_of_day = clock.t0 + pd.Timedelta(days=clock.t_asof - 1)
    age = np.floor((as_of_day.value - birth.astype(np.int64)) / (365.25 * 86400e9)).astype(np.int64)
    customers = pd.DataFrame(
        {
            "customer_id": _str(cid),
            "signup_date": signup,
            "name": _str(pa.array(name)),
            "phone": _str(phone),
            "email": _str(email),
            "gender": _str(_take(list(GENDERS), cust["gender"])),
            "birth_date": birth,
            "age": age,
            "city": _str(_take(list(CITIES), cust["city"])),
            "acquisition_channel": _str(_take(list(ACQUISITION_CHANNELS), cust["acq"])),
            "member_level": _str(_take(list(MEMBER_LEVELS), cust["member"])),
        }
    )
    return customers


def _orders_frame(lines: dict[str, np.ndarray], cid: pa.Array, clock: _Clock) -> pd.DataFrame:
    """Orders: one row per simulated line (purchases, campaign purchases, refunds)."""
    m = lines["owner"].size
    refund = lines["kind"] == 2
    orders = pd.DataFrame(
        {
            "order_id": _str(_ids("O", np.arange(1, m + 1), 10)),
            "customer_id": _str(pc.take(cid, pa.array(lines["owner"]))),
            "order_time": clock.to_datetime(lines["t"]),
            "amount": lines["amount"],
            "channel": _str(_take(list(CHANNELS), lines["channel"])),
            "status": _str(_take(["paid", "refunded"], refund.astype(np.int8))),
            "is_refund": refund,
            "quantity": lines["qty"],
            "discount": lines["discount"],
            "margin": lines["margin"],
            "product_category": _str(_take(list(CATEGORY_SPEC), lines["cat"])),
        }
    )
    return orders


def _flag_na(x: np.ndarray, na: np.ndarray) -> pd.Series:
    """A nullable boolean flag, missing where ``na``."""
    return pd.Series(pd.array(x, dtype="boolean")).mask(na)


def _contacts_frame(contacts: dict[str, np.ndarray], cid: pa.Array, clock: _Clock) -> pd.DataFrame:
    """Campaign contacts, sorted by campaign and customer (empty with the contract's columns)."""
    names = list(CAMPAIGN_SPEC)
    if contacts:
        arm_labels = [list(CAMPAIGN_SPEC[c]["planned_split"]) for c in names]
        flat = [a for labels in arm_labels for a in labels]
        offset = np.cumsum([0, *(len(x) for x in arm_labels)])[:-1]
        arm_code = offset[contacts["campaign"]] + contacts["arm"]
        chan = [CAMPAIGN_SPEC[c]["channel"] for c in names]

        order = np.lexsort((contacts["owner"], contacts["campaign"]))
        cc = pd.DataFrame(
            {
                "customer_id": _str(pc.take(cid, pa.array(contacts["owner"]))),
                "campaign_id": _str(_take(names, contacts["campaign"])),
                "arm": _str(_take(flat, arm_code)),
                "contact_time": clock.to_datetime(contacts["contact"]),
                "channel": _str(_take(chan, contacts["campaign"])),
                "cost": contacts["cost"].astype(np.float64),
                "delivered": _flag_na(contacts["delivered"], contacts["delivered_na"]),
                "opened": _flag_na(contacts["opened"], contacts["flags_na"]),
                "clicked": _flag_na(contacts["clicked"], contacts["flags_na"]),
                "visited": contacts["visited"],
                "converted": contacts["converted"],
                "revenue": contacts["revenue"],
                "pre_period_revenue": np.round(contacts["pre"], 2),
            }
        )
        cc = cc.iloc[order].reset_index(drop=True)
    else:
        cc = pd.DataFrame({c: pd.Series(dtype="object") for c in TABLES["campaign_contacts"].names})
    return cc


def _events_frame(events: dict[str, np.ndarray], cid: pa.Array, clock: _Clock) -> pd.DataFrame:
    """Funnel events with their session ids and campaign of the session."""
    names = list(CAMPAIGN_SPEC)
    sess = events["sess"]
    n_sess = events["sess_owner"].size
    sid = _ids("S", np.arange(1, n_sess + 1), 9)
    ev_channels = list(FUNNEL_STEP_CONVERSION)
    camp_labels = pc.take(
        pa.array([*names, None], type=pa.string()),
        pa.array(np.where(events["sess_campaign"] < 0, len(names), events["sess_campaign"])),
    )
    ev = pd.DataFrame(
        {
            "customer_id": _str(pc.take(cid, pa.array(events["sess_owner"][sess]))),
            "event_time": clock.to_datetime(events["t"]),
            "event_name": _str(_take(list(FUNNEL_STEPS), events["step"])),
            "channel": _str(_take(ev_channels, events["sess_ch"][sess])),
            "session_id": _str(pc.take(sid, pa.array(sess))),
            "campaign_id": _str(pc.take(camp_labels, pa.array(sess))),
        }
    )
    return ev


def _tickets_frame(tickets: dict[str, np.ndarray], cid: pa.Array, clock: _Clock) -> pd.DataFrame:
    """Service and complaint tickets."""
    k = tickets["owner"].size
    tk = pd.DataFrame(
        {
            "ticket_id": _str(_ids("T", np.arange(1, k + 1), 8)),
            "customer_id": _str(pc.take(cid, pa.array(tickets["owner"]))),
            "opened_at": clock.to_datetime(tickets["opened"]),
            "first_response_at": clock.to_datetime(tickets["first"]),
            "resolved_at": clock.to_datetime(tickets["resolved"]),
            "satisfaction": tickets["csat"].astype(np.int64),
            "channel": _str(_take(list(TICKET_CHANNELS), tickets["channel"])),
            "category": _str(_take(list(tickets["categories"]), tickets["cat"])),
            "is_complaint": tickets["complaint"],
        }
    )
    return tk
