"""Deterministic synthetic CRM data with a documented ground truth.

:func:`generate` simulates a customer base and returns the five contract tables (canonical
column names, clean) together with the truth that produced them; :func:`write_example` writes
them the way Chinese CRM/ERP exports look (GBK CSV with Chinese headers, UTF-8-with-BOM CSV,
Excel, Parquet) with planted data-quality defects, or as clean canonical Parquet files.

The model, in the order it is simulated (every number below is a module constant and is copied
into ``truth``):

* **Customers.** Four latent segments (:data:`SEGMENT_SPEC`: ``vip``, ``loyal``,
  ``occasional``, ``bargain``) with documented shares. Each customer's order rate and mean order
  value are the segment's times a gamma multiplier of mean 1 (shapes
  :data:`RATE_GAMMA_SHAPE`, :data:`SPEND_GAMMA_SHAPE`), so spend is skewed within a segment.
  Sign-up times fall in ``[start, as_of]`` with intensity growing by
  :data:`SIGNUP_GROWTH_PER_YEAR` and following the seasonality. Baseline covariates (known at
  sign-up): acquisition channel, member level, gender, age; plus fake name, phone, e-mail, city.
* **Seasonality.** Calendar intensity ``s(t)``: month factors (:data:`MONTH_FACTORS`), special
  days (:data:`SPECIAL_DAYS`: 11-11 "双11" spike, 6-18, 12-12) and a Chinese New Year dip
  (:data:`CNY_DIP`), normalised to mean 1 within each calendar year.
* **Dropout.** A latent exponential lifetime from sign-up with hazard
  ``base_hazard[segment] * exp(beta . x)`` (:data:`HAZARD_RATIOS`, reference levels in
  :data:`HAZARD_REFERENCE`). Complaint tickets arrive as a Poisson process (rate by segment);
  from the first complaint with CSAT <= :data:`BAD_CSAT_MAX` on, the hazard is multiplied by
  :data:`BAD_COMPLAINT_FACTOR` (a time-varying covariate). The segment acts as an unobserved
  frailty.
* **Orders.** Between sign-up and ``min(dropout, end)`` purchases arrive as an inhomogeneous
  Poisson process with intensity ``rate_i * s(t)`` (simulated exactly by a time change, which is
  equivalent to thinning). Amount ~ lognormal around the customer's mean times a category price
  factor; discount, quantity and margin by segment and category (:data:`CATEGORY_SPEC`);
  channel drawn from the customer's own channel probabilities (Dirichlet around the segment's).
  :data:`REFUND_RATE` of purchases get a later refund line (new ``order_id``, negative amount,
  status ``refunded``).
* **Campaigns** (:data:`CAMPAIGN_SPEC`): ``spring_coupon_2025`` (SMS, randomized 50/50),
  ``summer_email_2025`` (e-mail, arms A/B/control) among customers active at contact, with
  ``converted ~ Bernoulli(p0_i + tau[arm, segment])`` where ``p0_i`` is ``p0[segment]`` scaled
  by the customer's pre-period purchases relative to the segment mean (mean ``p0[segment]``,
  :data:`CAMPAIGN_ENGAGEMENT_FLOOR`); each tracked conversion is a purchase inserted into
  ``orders``. ``vip_call_2025`` (phone) has no control group: customers are selected with a
  propensity rising with their 90-day pre-period revenue, and a call adds a purchase with
  probability ``tau[segment]``; its ``converted`` / ``revenue`` are read from the orders in the
  window, so the effect is only identified by adjusting for past spend.
* **Tickets.** The complaint tickets above plus service tickets following a share of purchases.
* **Events.** Sessions per customer (Poisson, by segment) within the active period, each a
  funnel ``exposure -> visit -> add_to_cart -> checkout -> order`` with step conversion by channel
  (:data:`FUNNEL_STEP_CONVERSION`); clicks of the randomized campaigns open campaign sessions.

Everything is vectorised NumPy (no loop over customers or orders), driven by independent
streams spawned from one :class:`numpy.random.SeedSequence`: the same ``seed`` gives identical
tables.
"""

from __future__ import annotations

import copy
import gzip
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.core.contract import TABLES

__all__ = [
    "SynthData",
    "generate",
    "write_example",
    "example_params",
    "SEGMENTS",
    "SEGMENT_SPEC",
    "CHANNELS",
    "CATEGORY_SPEC",
    "HAZARD_RATIOS",
    "HAZARD_REFERENCE",
    "CAMPAIGN_SPEC",
    "FUNNEL_STEPS",
    "FUNNEL_STEP_CONVERSION",
    "EXPORT_FILES",
    "EXPORT_COLUMNS",
    "CANONICAL_FILES",
]

# ============================================================================================
# The model's parameters (documented truth; copied into ``SynthData.truth``)
# ============================================================================================

DAYS_PER_MONTH: float = 365.25 / 12
GENERATOR_VERSION: int = 1

#: Latent segments in a fixed order (the integer codes used internally).
SEGMENTS: tuple[str, ...] = ("vip", "loyal", "occasional", "bargain")

#: Per-segment behaviour. Rates are per month at seasonality 1; hazards per month at the
#: reference covariates; ``discount_share`` is the mean of discount / (paid + discount) among
#: discounted orders, ``no_discount_prob`` the share of orders without discount.
SEGMENT_SPEC: dict[str, dict[str, float]] = {
    "vip": {
        "share": 0.08, "order_rate_per_month": 2.5, "mean_order_value": 800.0,
        "discount_share": 0.05, "no_discount_prob": 0.5, "complaint_rate_per_month": 0.03,
        "base_hazard_per_month": 0.005, "sessions_mean": 8.0,
    },
    "loyal": {
        "share": 0.22, "order_rate_per_month": 0.8, "mean_order_value": 280.0,
        "discount_share": 0.08, "no_discount_prob": 0.4, "complaint_rate_per_month": 0.02,
        "base_hazard_per_month": 0.008, "sessions_mean": 5.0,
    },
    "occasional": {
        "share": 0.40, "order_rate_per_month": 0.15, "mean_order_value": 120.0,
        "discount_share": 0.10, "no_discount_prob": 0.4, "complaint_rate_per_month": 0.012,
        "base_hazard_per_month": 0.04, "sessions_mean": 3.0,
    },
    "bargain": {
        "share": 0.30, "order_rate_per_month": 0.6, "mean_order_value": 45.0,
        "discount_share": 0.30, "no_discount_prob": 0.1, "complaint_rate_per_month": 0.03,
        "base_hazard_per_month": 0.015, "sessions_mean": 4.0,
    },
}  # fmt: skip

#: Gamma shape of the customer's order-rate multiplier (mean 1; CV = 1/sqrt(shape)).
RATE_GAMMA_SHAPE: float = 10.0
#: Gamma shape of the customer's mean-order-value multiplier (mean 1).
SPEND_GAMMA_SHAPE: float = 16.0
#: Log-sd of one order's amount around the customer's mean (lognormal, mean preserving).
AMOUNT_SIGMA: float = 0.4
#: Sign-up intensity grows by this share per year (0.3: 30 % more sign-ups a year later).
SIGNUP_GROWTH_PER_YEAR: float = 0.3

#: Sales channels of ``orders.channel``.
CHANNELS: tuple[str, ...] = ("app", "web", "mini_program", "store")
#: Mean preferred-channel probabilities per segment (order of :data:`CHANNELS`).
SEGMENT_CHANNEL_PROBS: dict[str, tuple[float, float, float, float]] = {
    "vip": (0.45, 0.10, 0.15, 0.30),
    "loyal": (0.45, 0.15, 0.30, 0.10),
    "occasional": (0.30, 0.25, 0.30, 0.15),
    "bargain": (0.30, 0.10, 0.50, 0.10),
}
#: Dirichlet concentration of a customer's channel probabilities around the segment's.
CHANNEL_CONCENTRATION: float = 6.0

#: Product categories: share of orders, price factor (normalised so the mean factor is 1),
#: gross margin rate, and mean extra items (quantity = 1 + Poisson(extra_items)).
CATEGORY_SPEC: dict[str, dict[str, float]] = {
    "服装": {"share": 0.30, "price_factor": 1.0, "margin_rate": 0.40, "extra_items": 0.6},
    "美妆": {"share": 0.20, "price_factor": 0.9, "margin_rate": 0.45, "extra_items": 0.5},
    "食品": {"share": 0.20, "price_factor": 0.8, "margin_rate": 0.18, "extra_items": 1.2},
    "数码": {"share": 0.10, "price_factor": 1.4, "margin_rate": 0.12, "extra_items": 0.1},
    "家居": {"share": 0.20, "price_factor": 1.0, "margin_rate": 0.30, "extra_items": 0.4},
}
#: Sd of the order-level margin rate around the category's.
MARGIN_RATE_SD: float = 0.05

#: Share of purchases that get a refund line, and the share of refunds that are partial.
REFUND_RATE: float = 0.04
PARTIAL_REFUND_SHARE: float = 0.25

#: Month factors of the seasonality (before the per-year normalisation).
MONTH_FACTORS: dict[int, float] = {
    1: 0.85, 2: 0.75, 3: 0.95, 4: 0.95, 5: 1.0, 6: 1.1,
    7: 0.9, 8: 0.9, 9: 0.95, 10: 1.0, 11: 1.45, 12: 1.2,
}  # fmt: skip
#: Extra multipliers on single days ("MM-DD"): 双11 spike, 618, 双12.
SPECIAL_DAYS: dict[str, float] = {
    "11-10": 2.0,
    "11-11": 5.0,
    "11-12": 2.0,
    "06-18": 3.0,
    "12-12": 2.0,
}
#: Chinese New Year dip: multiplier from 5 days before to 7 days after the festival.
CNY_DIP: dict[str, float] = {"multiplier": 0.45, "days_before": 5, "days_after": 7}
CNY_DATES: dict[int, str] = {
    2015: "2015-02-19", 2016: "2016-02-08", 2017: "2017-01-28", 2018: "2018-02-16",
    2019: "2019-02-05", 2020: "2020-01-25", 2021: "2021-02-12", 2022: "2022-02-01",
    2023: "2023-01-22", 2024: "2024-02-10", 2025: "2025-01-29", 2026: "2026-02-17",
    2027: "2027-02-06", 2028: "2028-01-26", 2029: "2029-02-13", 2030: "2030-02-03",
}  # fmt: skip
#: Relative weight of each hour of the day (orders, sign-ups, sessions).
HOUR_WEIGHTS: tuple[float, ...] = (
    0.8, 0.4, 0.2, 0.1, 0.1, 0.2, 0.5, 1.2, 2.0, 2.8, 3.4, 3.8,
    4.2, 3.6, 3.4, 3.4, 3.6, 3.8, 4.2, 5.0, 6.2, 6.8, 5.6, 2.6,
)  # fmt: skip

#: Baseline covariates: levels and shares.
ACQUISITION_CHANNELS: dict[str, float] = {
    "organic": 0.35, "paid_search": 0.20, "paid_social": 0.20, "referral": 0.15, "offline": 0.10,
}  # fmt: skip
#: Member levels ("non_member" rather than "none": the intake reads "none" as a placeholder).
MEMBER_LEVELS: dict[str, float] = {"non_member": 0.60, "silver": 0.28, "gold": 0.12}
GENDERS: dict[str, float] = {"男": 0.42, "女": 0.58}
#: Age at sign-up ~ Normal(mean, sd) clipped to [low, high].
AGE_SPEC: dict[str, float] = {"mean": 33.0, "sd": 9.0, "low": 18.0, "high": 70.0}
CITIES: dict[str, float] = {
    "上海": 0.16, "北京": 0.14, "深圳": 0.10, "广州": 0.09, "杭州": 0.08, "成都": 0.08,
    "南京": 0.06, "武汉": 0.06, "重庆": 0.06, "西安": 0.05, "苏州": 0.05, "天津": 0.04,
    "长沙": 0.03,
}  # fmt: skip

#: True hazard ratios of dropout (covariates at sign-up), keyed by readable names.
HAZARD_RATIOS: dict[str, float] = {
    "acquisition_channel=paid_search": 1.2,
    "acquisition_channel=paid_social": 1.6,
    "acquisition_channel=referral": 0.7,
    "acquisition_channel=offline": 0.9,
    "is_member": 0.6,
    "gender=女": 1.0,
    "age_per_10_years": 0.9,
}
#: Reference levels of :data:`HAZARD_RATIOS`.
HAZARD_REFERENCE: dict[str, Any] = {
    "acquisition_channel": "organic",
    "is_member": "member_level == 'non_member' (is_member: member_level in {'silver', 'gold'})",
    "gender": "男",
    "age": "35 years at sign-up (hazard ratio 0.9 per 10 years above)",
}
AGE_REFERENCE: float = 35.0
#: From the first complaint with CSAT <= BAD_CSAT_MAX on, the hazard is multiplied by this.
BAD_COMPLAINT_FACTOR: float = 3.0
BAD_CSAT_MAX: int = 2
#: Dropout within this many days after a bad complaint counts as churn reason "unhappy".
UNHAPPY_DAYS: int = 60
#: Non-contractual churn window after ``as_of``.
CHURN_WINDOW_DAYS: int = 90

#: CSAT 1..5 probabilities of complaint and of service tickets.
CSAT_COMPLAINT: tuple[float, ...] = (0.35, 0.25, 0.20, 0.12, 0.08)
CSAT_SERVICE: tuple[float, ...] = (0.03, 0.05, 0.15, 0.37, 0.40)
#: Share of purchases followed by a service ticket (opened 0.1-10 days later).
SERVICE_TICKET_RATE: float = 0.04
#: Share of tickets never resolved (blank ``resolved_at``).
UNRESOLVED_SHARE: float = 0.08
TICKET_CHANNELS: tuple[str, ...] = ("电话", "在线客服", "邮件")
TICKET_CATEGORIES: tuple[str, ...] = ("物流", "退款", "质量", "咨询", "投诉")
TICKET_SPEC: dict[str, dict[str, Any]] = {
    "service": {
        "channel_probs": (0.30, 0.55, 0.15),
        "categories": {"物流": 0.35, "退款": 0.25, "质量": 0.15, "咨询": 0.25},
        "first_response_median_minutes": 20.0,
        "resolution_median_hours": 8.0,
    },
    "complaint": {
        "channel_probs": (0.50, 0.40, 0.10),
        "categories": {"投诉": 0.70, "质量": 0.20, "物流": 0.10},
        "first_response_median_minutes": 180.0,
        "resolution_median_hours": 36.0,
    },
}

#: Funnel steps of ``events.event_name``.
FUNNEL_STEPS: tuple[str, ...] = ("exposure", "visit", "add_to_cart", "checkout", "order")
#: Probability of reaching each step from the previous one, by channel (``store`` has no
#: online funnel; sessions use the customer's channel probabilities restricted to the others).
FUNNEL_STEP_CONVERSION: dict[str, dict[str, float]] = {
    "app": {"visit": 0.45, "add_to_cart": 0.35, "checkout": 0.55, "order": 0.80},
    "web": {"visit": 0.30, "add_to_cart": 0.25, "checkout": 0.45, "order": 0.70},
    "mini_program": {"visit": 0.50, "add_to_cart": 0.30, "checkout": 0.50, "order": 0.75},
}
#: Mean minutes from one funnel step to the next (exponential, plus 10 seconds).
FUNNEL_STEP_MINUTES: dict[str, float] = {
    "visit": 1.0,
    "add_to_cart": 4.0,
    "checkout": 3.0,
    "order": 2.0,
}

#: The three campaigns. ``p0`` is the mean control conversion by segment, ``tau`` the true
#: additive effect on conversion by arm and segment.
CAMPAIGN_SPEC: dict[str, dict[str, Any]] = {
    "spring_coupon_2025": {
        "design": "randomized",
        "channel": "sms",
        "contact_start": "2025-03-10 09:00",
        "contact_end": "2025-03-15 21:00",
        "cost_per_contact": 0.05,
        "planned_split": {"treatment": 0.5, "control": 0.5},
        "outcome_window_days": 14,
        "p0": {"vip": 0.12, "loyal": 0.08, "occasional": 0.03, "bargain": 0.05},
        "tau": {"treatment": {"vip": 0.01, "loyal": 0.04, "occasional": 0.05, "bargain": 0.08}},
        "coupon_value": 20.0,
        "flag_rates": {"delivered": 0.96, "opened": 0.30, "clicked": 0.25,
                       "visited": {"treatment": 0.15, "control": 0.08}},
        "session_channel": "mini_program",
    },
    "summer_email_2025": {
        "design": "randomized",
        "channel": "email",
        "contact_start": "2025-06-16 10:00",
        "contact_end": "2025-06-16 10:30",
        "cost_per_contact": 0.01,
        "planned_split": {"A": 1 / 3, "B": 1 / 3, "control": 1 / 3},
        "outcome_window_days": 14,
        "p0": {"vip": 0.10, "loyal": 0.06, "occasional": 0.025, "bargain": 0.04},
        "tau": {
            "A": {"vip": 0.02, "loyal": 0.03, "occasional": 0.02, "bargain": 0.01},
            "B": {"vip": 0.00, "loyal": 0.01, "occasional": 0.03, "bargain": 0.05},
        },
        "coupon_value": 0.0,
        "flag_rates": {"delivered": 0.97, "opened": 0.22, "clicked": 0.18,
                       "visited": {"A": 0.10, "B": 0.10, "control": 0.06}},
        "session_channel": "web",
    },
    "vip_call_2025": {
        "design": "observational",
        "channel": "phone",
        "contact_start": "2025-08-01 10:00",
        "contact_end": "2025-08-01 18:00",
        "cost_per_contact": 2.0,
        "planned_split": {"treatment": 1.0},
        "outcome_window_days": 14,
        "propensity": {"intercept": -9.0, "slope_log1p_pre_period_revenue": 1.2},
        "tau": {"treatment": {"vip": 0.06, "loyal": 0.10, "occasional": 0.08, "bargain": 0.04}},
        "coupon_value": 0.0,
        "flag_rates": {"delivered": 0.80, "visited": {"treatment": 0.10}},
    },
}  # fmt: skip
#: Baseline conversion of the randomized campaigns: ``p0_i = p0[segment] * (floor + (1 - floor)
#: * k_i / mean_k[segment])`` with ``k_i`` the customer's purchases in the pre-period (so the
#: segment mean stays ``p0[segment]`` and the pre-period revenue predicts the outcome).
CAMPAIGN_ENGAGEMENT_FLOOR: float = 0.2
#: Revenue of a tracked conversion ~ Gamma(shape, mean = the customer's mean order value).
CAMPAIGN_REVENUE_SHAPE: float = 3.0
PRE_PERIOD_DAYS: int = 90

# Names (common surnames with pinyin and weights; given-name characters by gender).
_SURNAMES = (
    ("王", "wang", 7.1), ("李", "li", 7.0), ("张", "zhang", 6.8), ("刘", "liu", 5.4),
    ("陈", "chen", 4.5), ("杨", "yang", 3.1), ("黄", "huang", 2.2), ("赵", "zhao", 2.0),
    ("吴", "wu", 1.9), ("周", "zhou", 1.8), ("徐", "xu", 1.5), ("孙", "sun", 1.4),
    ("马", "ma", 1.3), ("朱", "zhu", 1.2), ("胡", "hu", 1.1), ("郭", "guo", 1.1),
    ("何", "he", 1.0), ("林", "lin", 0.9), ("高", "gao", 0.9), ("罗", "luo", 0.9),
    ("郑", "zheng", 0.8), ("梁", "liang", 0.8), ("谢", "xie", 0.7), ("宋", "song", 0.6),
    ("唐", "tang", 0.6), ("许", "xu", 0.6), ("韩", "han", 0.6), ("冯", "feng", 0.5),
    ("邓", "deng", 0.5), ("曹", "cao", 0.5), ("彭", "peng", 0.5), ("曾", "zeng", 0.5),
    ("肖", "xiao", 0.5), ("田", "tian", 0.4), ("董", "dong", 0.4), ("潘", "pan", 0.4),
    ("袁", "yuan", 0.4), ("蔡", "cai", 0.4), ("蒋", "jiang", 0.4), ("余", "yu", 0.4),
    ("欧阳", "ouyang", 0.05), ("司马", "sima", 0.02),
)  # fmt: skip
_GIVEN_MALE = tuple(
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林阳建国志文海峰亮成东博"
)
_GIVEN_FEMALE = tuple(
    "芳娜敏静丽艳娟霞秀玲燕萍红婷雪琳慧莹颖倩洁佳欣悦晶月梅兰琴云璐瑶怡婧雯蕾薇岚丹"
)
_EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "gmail.com", "outlook.com")
_EMAIL_DOMAIN_P = (0.30, 0.25, 0.12, 0.08, 0.13, 0.12)
_PHONE_SECOND = (3, 5, 7, 8, 9)
_PHONE_SECOND_P = (0.30, 0.25, 0.10, 0.30, 0.05)
_NOTE_PARTS = (
    ("客户来电咨询订单", "的物流进度"), ("已加企业微信，编号", ""), ("生日当月赠券，券码", ""),
    ("投诉处理后回访，工单", "已关闭"), ("偏好晚间下单，最近一次消费", "元"),
    ("VIP 专属客服跟进，编号", ""), ("要求开具发票，金额", "元"), ("地址变更，原订单", "改派"),
)  # fmt: skip
_NOTE_SHARE = 0.35

# Files of ``formats="export"`` and their headers (canonical name -> header in the file).
EXPORT_FILES: dict[str, str] = {
    "customers": "customers.csv.gz",
    "orders": "orders.csv.gz",
    "campaign_contacts": "campaign_contacts.parquet",
    "events": "events.csv.gz",
    "tickets": "tickets.xlsx",
}
EXPORT_COLUMNS: dict[str, dict[str, str]] = {
    "customers": {
        "customer_id": "会员ID", "name": "姓名", "phone": "手机号", "email": "邮箱",
        "gender": "性别", "birth_date": "出生日期", "city": "城市", "signup_date": "注册日期",
        "acquisition_channel": "获客渠道", "member_level": "会员等级",
    },
    "orders": {
        "order_id": "订单号", "customer_id": "会员ID", "order_time": "下单时间",
        "amount": "实付金额", "channel": "渠道", "status": "订单状态", "is_refund": "是否退款",
        "quantity": "数量", "discount": "优惠金额", "margin": "毛利", "product_category": "品类",
    },
    "campaign_contacts": {c: c for c in (
        "customer_id", "campaign_id", "arm", "contact_time", "channel", "cost", "delivered",
        "opened", "clicked", "visited", "converted", "revenue", "pre_period_revenue",
    )},
    "events": {c: c for c in (
        "customer_id", "event_time", "event_name", "channel", "session_id", "campaign_id",
    )},
    "tickets": {
        "ticket_id": "工单号", "customer_id": "会员ID", "opened_at": "创建时间",
        "first_response_at": "首次响应时间", "resolved_at": "解决时间", "satisfaction": "满意度",
        "channel": "渠道", "category": "类型", "is_complaint": "是否投诉",
    },
}  # fmt: skip
#: Extra customer columns written when defects are planted (constant and free text).
EXTRA_CUSTOMER_COLUMNS: tuple[str, str] = ("国家", "备注")
#: Files of ``formats="canonical"``.
CANONICAL_FILES: dict[str, str] = {name: f"{name}.parquet" for name in EXPORT_FILES}

#: Planted defects (``write_example(defects=True)``): shares of rows or fixed counts.
DEFECT_SPEC: dict[str, Any] = {
    "orders_exact_duplicate_share": 0.005,
    "orders_orphan_share": 0.003,
    "orders_money_string_share": 0.10,
    "orders_negative_not_refund": 10,
    "orders_future_dates": 5,
    "orders_prelaunch_dates": 5,
    "orders_extreme_spenders": 3,
    "orders_unparseable_amounts": 5,
    "customers_duplicate_key_share": 0.004,
    "customers_placeholder_share": 0.03,
    "placeholders": ("未知", "N/A", ""),
    "unparseable_values": ("abc", "待定", "见备注", "#VALUE!", "1.2.3"),
    "extreme_amounts": (999999.0, 888888.0, 1234567.0),
    "prelaunch_values": ("1970-01-01 00:00:00", "1900-01-01 00:00:00"),
}
# Date styles written into the export (share of rows). Keys are the style names of the truth.
_ORDER_DATE_STYLES: dict[str, float] = {
    "2024-03-05 14:22:05": 0.70, "2024-03-05 14:22": 0.10, "2024/3/5 14:22": 0.08,
    "20240305": 0.06, "2024年03月05日": 0.06,
}  # fmt: skip
_SIGNUP_DATE_STYLES: dict[str, float] = {
    "2024-03-05": 0.65, "2024/3/5": 0.10, "2024-03-05 14:22": 0.10, "20240305": 0.08,
    "2024年03月05日": 0.07,
}  # fmt: skip

_STREAMS = (
    "customers",
    "lifetimes",
    "orders",
    "campaigns",
    "refunds",
    "tickets",
    "events",
    "export",
)
_MAX_CUSTOMERS = 8_000_000  # ids C1000001..C8999999; C9xxxxxx is kept for orphan defects


# ============================================================================================
# Result object
# ============================================================================================


@dataclass(frozen=True, eq=False)
class SynthData:
    """A generated customer base: five canonical tables plus the truth behind them.

    Attributes
    ----------
    customers, orders, campaign_contacts, events, tickets : pandas.DataFrame
        Clean tables with the canonical column names of :data:`workbench.core.contract.TABLES`.
    truth : dict
        JSON-able ground truth (segments, seasonality, churn model and realised churn rates,
        campaigns, funnel, refunds, tickets; ``defects`` is filled by :func:`write_example`).
    truth_customers : pandas.DataFrame
        One row per customer: latent segment, own rate and mean spend, preferred channel,
        hazard, dropout date, churn labels and reason.
    """

    customers: pd.DataFrame
    orders: pd.DataFrame
    campaign_contacts: pd.DataFrame
    events: pd.DataFrame
    tickets: pd.DataFrame
    truth: dict[str, Any]
    truth_customers: pd.DataFrame

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The five contract tables by name."""
        return {name: getattr(self, name) for name in EXPORT_FILES}

    def summary(self) -> pd.DataFrame:
        """Rows and columns per table.

        Returns
        -------
        pandas.DataFrame
            One row per table: ``table``, ``rows``, ``columns``.
        """
        return pd.DataFrame(
            [{"table": k, "rows": len(v), "columns": v.shape[1]} for k, v in self.tables.items()]
        )

    def __repr__(self) -> str:
        g = self.truth.get("generator", {})
        return (
            f"SynthData(customers={len(self.customers):,}, orders={len(self.orders):,}, "
            f"seed={g.get('seed')}, as_of={g.get('as_of')})"
        )


# ============================================================================================
# Small helpers
# ============================================================================================


@dataclass(frozen=True)
class _Clock:
    """Time axis in float days since ``start`` midnight."""

    t0: pd.Timestamp
    t_end: float  # end of the ``end`` day
    t_asof: float  # end of the ``as_of`` day

    def days(self, when: str | pd.Timestamp) -> float:
        return (pd.Timestamp(when) - self.t0) / pd.Timedelta(days=1)

    def to_datetime(self, days: np.ndarray) -> np.ndarray:
        """Float days -> ``datetime64[ns]`` (whole seconds); non-finite -> NaT."""
        days = np.asarray(days, dtype=np.float64)
        ok = np.isfinite(days)
        ns = np.full(days.shape, np.iinfo(np.int64).min, dtype=np.int64)
        ns[ok] = self.t0.value + np.floor(days[ok] * 86400.0).astype(np.int64) * 1_000_000_000
        return ns.view("datetime64[ns]")


def _p(weights: Any) -> np.ndarray:
    w = np.asarray(list(weights), dtype=np.float64)
    return w / w.sum()


def _str(values: pa.Array | np.ndarray) -> pd.Series:
    """Arrow-backed pandas string column."""
    return pd.Series(values, dtype="str")


def _take(labels: tuple[str, ...] | list[str], codes: np.ndarray) -> pa.Array:
    """Labels by integer code (vectorised, in Arrow)."""
    return pc.take(pa.array(list(labels), type=pa.string()), pa.array(np.asarray(codes)))


def _join(*parts: Any) -> pa.Array:
    """Concatenate string arrays/scalars element-wise."""
    return pc.binary_join_element_wise(*parts, "")


def _num_str(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values)), pa.string())


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded numbers."""
    return _join(prefix, pc.utf8_lpad(_num_str(numbers.astype(np.int64)), width, "0"))


def _fmt_money(values: np.ndarray, *, yuan: bool = False) -> pa.Array:
    """Money as text with two decimals: ``1234.50``; ``yuan`` gives ``￥1,234.50``."""
    v = np.asarray(values, dtype=np.float64)
    cents = np.round(np.abs(v) * 100).astype(np.int64)
    whole, frac = cents // 100, cents % 100
    if yuan:
        g0, g1, g2 = whole % 1000, (whole // 1000) % 1000, whole // 1_000_000

        def pad3(x: np.ndarray) -> pa.Array:
            return pc.utf8_lpad(_num_str(x), 3, "0")

        w = pc.if_else(
            pa.array(whole >= 1_000_000),
            _join(_num_str(g2), ",", pad3(g1), ",", pad3(g0)),
            pc.if_else(
                pa.array(whole >= 1000), _join(_num_str(g1), ",", pad3(g0)), _num_str(whole)
            ),
        )
        body = _join("￥", w)
    else:
        body = _num_str(whole)
    sign = pc.if_else(pa.array(v < 0), pa.scalar("-"), pa.scalar(""))
    return _join(sign, body, ".", pc.utf8_lpad(_num_str(frac), 2, "0"))


def _fmt_dates(ts: np.ndarray, style: str) -> pa.Array:
    """Format ``datetime64`` values in one of the export styles (NaT -> null)."""
    arr = pa.array(np.asarray(ts).astype("datetime64[s]"))
    formats = {
        "2024-03-05 14:22:05": "%Y-%m-%d %H:%M:%S",
        "2024-03-05 14:22": "%Y-%m-%d %H:%M",
        "2024-03-05": "%Y-%m-%d",
        "20240305": "%Y%m%d",
        "2024年03月05日": "%Y年%m月%d日",
    }
    if style in formats:
        return pc.strftime(arr, format=formats[style])
    ymd = _join(_num_str(pc.year(arr)), "/", _num_str(pc.month(arr)), "/", _num_str(pc.day(arr)))
    if style == "2024/3/5":
        return ymd
    if style == "2024/3/5 14:22":
        return _join(ymd, " ", pc.strftime(arr, format="%H:%M"))
    raise ValueError(f"unknown date style {style!r}")


def _fmt_mixed_dates(ts: np.ndarray, styles: list[str], codes: np.ndarray) -> pa.Array:
    """Format each value in the style ``styles[codes[i]]``."""
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    parts = []
    for k, style in enumerate(styles):
        sel = order[sorted_codes == k]
        parts.append(_fmt_dates(ts[sel], style))
    joined = pa.concat_arrays(parts)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    return pc.take(joined, pa.array(inverse))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return None if not np.isfinite(v) else round(v, 6)
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return None if pd.isna(value) else str(pd.Timestamp(value))
    return value


def _bincount(idx: np.ndarray, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    return np.bincount(idx, weights=weights, minlength=n)


def _rates(num: np.ndarray, den: np.ndarray) -> list[float | None]:
    return [float(a / b) if b else None for a, b in zip(num, den, strict=True)]


# ============================================================================================
# Seasonality and point processes
# ============================================================================================


def _season_daily(t0: pd.Timestamp, n_days: int) -> np.ndarray:
    """Daily intensity factor for days ``0..n_days-1`` after ``t0`` (mean 1 per calendar year)."""
    last = t0 + pd.Timedelta(days=n_days)
    dates = pd.date_range(f"{t0.year}-01-01", f"{last.year}-12-31", freq="D")
    month = dates.month.to_numpy()
    day = dates.day.to_numpy()
    year = dates.year.to_numpy()
    f = np.array([MONTH_FACTORS[m] for m in range(1, 13)])[month - 1]
    for md, mult in SPECIAL_DAYS.items():
        m, d = (int(x) for x in md.split("-"))
        f = np.where((month == m) & (day == d), f * mult, f)
    for y in np.unique(year):
        if int(y) in CNY_DATES:
            cny = pd.Timestamp(CNY_DATES[int(y)])
            lo = cny - pd.Timedelta(days=CNY_DIP["days_before"])
            hi = cny + pd.Timedelta(days=CNY_DIP["days_after"])
            f = np.where((dates >= lo) & (dates <= hi), f * CNY_DIP["multiplier"], f)
    # normalise to mean 1 within each calendar year
    years, inv = np.unique(year, return_inverse=True)
    means = np.bincount(inv, weights=f) / np.bincount(inv)
    f = f / means[inv]
    first = int((t0.normalize() - dates[0]) / pd.Timedelta(days=1))
    return f[first : first + n_days]


def _time_of_day(rng: np.random.Generator, size: int) -> np.ndarray:
    hour = rng.choice(24, size=size, p=_p(HOUR_WEIGHTS))
    return (hour + rng.random(size)) / 24.0


class _Season:
    """Cumulative seasonal intensity on the day grid, for time-changed Poisson processes."""

    def __init__(self, clock: _Clock) -> None:
        self.n_days = int(np.ceil(clock.t_end)) + 1
        self.daily = _season_daily(clock.t0, self.n_days)
        self.grid = np.arange(self.n_days + 1, dtype=np.float64)
        self.cum = np.concatenate([[0.0], np.cumsum(self.daily)])

    def S(self, t: np.ndarray) -> np.ndarray:
        """Integrated intensity from ``start`` to ``t`` (days)."""
        return np.interp(t, self.grid, self.cum)

    def S_inv(self, u: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`S`."""
        return np.interp(u, self.cum, self.grid)

    def process(
        self,
        rng: np.random.Generator,
        a: np.ndarray,
        b: np.ndarray,
        rate_per_day: np.ndarray,
        *,
        daytime: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Points of independent Poisson processes with intensity ``rate_i * s(t)`` on
        ``[a_i, b_i)`` (time change of a unit-rate process; equivalent to thinning).

        With ``daytime`` the time of day is redrawn from :data:`HOUR_WEIGHTS` (kept when it
        stays inside the interval). Returns the owner index (int32) and the times, grouped by
        owner but not sorted within an owner.
        """
        sa = self.S(a)
        sb = self.S(np.maximum(a, b))
        width = sb - sa
        counts = rng.poisson(rate_per_day * width)
        owner = np.repeat(np.arange(a.size, dtype=np.int32), counts)
        u = sa[owner] + rng.random(owner.size) * width[owner]
        t = self.S_inv(u)
        if daytime and owner.size:
            t2 = np.floor(t) + _time_of_day(rng, owner.size)
            inside = (t2 >= a[owner]) & (t2 < b[owner])
            t = np.where(inside, t2, t)
        return owner, t


# ============================================================================================
# Simulation steps
# ============================================================================================


def _simulate_customers(
    rng: np.random.Generator, n: int, clock: _Clock, season: _Season
) -> dict[str, np.ndarray]:
    spec = [SEGMENT_SPEC[s] for s in SEGMENTS]
    seg = rng.choice(len(SEGMENTS), size=n, p=_p(s["share"] for s in spec)).astype(np.int8)
    # sign-up: intensity exp(g t) * s(t) on [start, as_of]
    n_days = int(np.ceil(clock.t_asof))
    g = np.log1p(SIGNUP_GROWTH_PER_YEAR) / 365.25
    w = np.exp(g * np.arange(n_days)) * season.daily[:n_days]
    cdf = np.cumsum(w) / w.sum()
    day = np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), n_days - 1)
    signup = day + _time_of_day(rng, n)
    signup = np.minimum(signup, clock.t_asof - 1e-6)
    rate_mult = rng.gamma(RATE_GAMMA_SHAPE, 1.0 / RATE_GAMMA_SHAPE, n)
    spend_mult = rng.gamma(SPEND_GAMMA_SHAPE, 1.0 / SPEND_GAMMA_SHAPE, n)
    alpha = np.array([SEGMENT_CHANNEL_PROBS[s] for s in SEGMENTS])[seg] * CHANNEL_CONCENTRATION
    gam = rng.gamma(alpha)
    ch_probs = gam / gam.sum(axis=1, keepdims=True)
    gender = rng.choice(len(GENDERS), size=n, p=_p(GENDERS.values())).astype(np.int8)
    age = np.clip(
        rng.normal(AGE_SPEC["mean"], AGE_SPEC["sd"], n), AGE_SPEC["low"], AGE_SPEC["high"]
    )
    acq = rng.choice(len(ACQUISITION_CHANNELS), size=n, p=_p(ACQUISITION_CHANNELS.values())).astype(
        np.int8
    )
    member = rng.choice(len(MEMBER_LEVELS), size=n, p=_p(MEMBER_LEVELS.values())).astype(np.int8)
    city = rng.choice(len(CITIES), size=n, p=_p(CITIES.values())).astype(np.int8)
    birth = np.floor(signup - age * 365.25)
    return {
        "seg": seg,
        "signup": signup,
        "rate_mult": rate_mult,
        "spend_mult": spend_mult,
        "rate": np.array([s["order_rate_per_month"] for s in spec])[seg] * rate_mult,
        "mean_value": np.array([s["mean_order_value"] for s in spec])[seg] * spend_mult,
        "ch_probs": ch_probs,
        "preferred": ch_probs.argmax(axis=1).astype(np.int8),
        "gender": gender,
        "age_signup": age,
        "acq": acq,
        "member": member,
        "city": city,
        "birth": birth,
        "surname": rng.choice(len(_SURNAMES), size=n, p=_p(s[2] for s in _SURNAMES)),
        "given1": rng.integers(0, 10_000, n),
        "given2": rng.integers(0, 10_000, n),
        "given_len": np.where(rng.random(n) < 0.75, 2, 1).astype(np.int8),
        "phone2": rng.choice(len(_PHONE_SECOND), size=n, p=_p(_PHONE_SECOND_P)),
        "phone_rest": rng.integers(0, 1_000_000_000, n),
        "email_kind": (rng.random(n) < 0.35).astype(np.int8),  # 1: numeric QQ address
        "email_num": rng.integers(10_000, 10_000_000_000, n),
        "email_domain": rng.choice(len(_EMAIL_DOMAINS), size=n, p=_p(_EMAIL_DOMAIN_P)),
    }


def _hazard_ratio(cust: dict[str, np.ndarray]) -> np.ndarray:
    acq_levels = list(ACQUISITION_CHANNELS)
    acq_hr = np.array([HAZARD_RATIOS.get(f"acquisition_channel={lvl}", 1.0) for lvl in acq_levels])
    hr = acq_hr[cust["acq"]]
    hr = hr * np.where(cust["member"] > 0, HAZARD_RATIOS["is_member"], 1.0)
    hr = hr * np.where(cust["gender"] == list(GENDERS).index("女"), HAZARD_RATIOS["gender=女"], 1.0)
    hr = hr * HAZARD_RATIOS["age_per_10_years"] ** ((cust["age_signup"] - AGE_REFERENCE) / 10.0)
    return hr


def _simulate_lifetimes(
    rng: np.random.Generator, cust: dict[str, np.ndarray], clock: _Clock
) -> dict[str, np.ndarray]:
    n = cust["seg"].size
    a = cust["signup"]
    spec = [SEGMENT_SPEC[s] for s in SEGMENTS]
    hr = _hazard_ratio(cust)
    h0 = np.array([s["base_hazard_per_month"] for s in spec])[cust["seg"]]
    h = h0 * hr / DAYS_PER_MONTH  # per day, before any bad complaint
    # potential complaints on [signup, end): homogeneous Poisson by segment
    c_rate = np.array([s["complaint_rate_per_month"] for s in spec])[cust["seg"]] / DAYS_PER_MONTH
    k = rng.poisson(c_rate * (clock.t_end - a))
    c_owner = np.repeat(np.arange(n, dtype=np.int32), k)
    c_time = a[c_owner] + rng.random(c_owner.size) * (clock.t_end - a)[c_owner]
    c_csat = rng.choice(5, size=c_owner.size, p=_p(CSAT_COMPLAINT)).astype(np.int8) + 1
    c_bad = c_csat <= BAD_CSAT_MAX
    first_bad = np.full(n, np.inf)
    np.minimum.at(first_bad, c_owner[c_bad], c_time[c_bad])
    # latent dropout: cumulative hazard h (t - a) before the first bad complaint, factor after
    e = rng.exponential(size=n)
    l1 = h * (first_bad - a)  # inf without a bad complaint
    before = a + e / h
    after = first_bad + (e - np.minimum(l1, e)) / (BAD_COMPLAINT_FACTOR * h)
    dropout = np.where(e < l1, before, after)
    active_end = np.minimum(dropout, clock.t_end)
    keep = c_time < active_end[c_owner]
    c_owner, c_time, c_csat, c_bad = c_owner[keep], c_time[keep], c_csat[keep], c_bad[keep]
    last_bad = np.full(n, -np.inf)
    np.maximum.at(last_bad, c_owner[c_bad], c_time[c_bad])
    return {
        "hazard_ratio": hr,
        "hazard_per_month": h * DAYS_PER_MONTH,
        "first_bad": np.where(first_bad < active_end, first_bad, np.inf),
        "last_bad": last_bad,
        "dropout": dropout,
        "active_end": active_end,
        "c_owner": c_owner,
        "c_time": c_time,
        "c_csat": c_csat,
    }


def _order_attributes(
    rng: np.random.Generator,
    cust: dict[str, np.ndarray],
    owner: np.ndarray,
    amount: np.ndarray | None = None,
    channel: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Category, amount, channel, quantity, discount and margin of purchase lines."""
    m = owner.size
    cats = list(CATEGORY_SPEC.values())
    shares = _p(c["share"] for c in cats)
    factor = np.array([c["price_factor"] for c in cats])
    factor = factor / (shares @ factor)
    cat = rng.choice(len(cats), size=m, p=shares).astype(np.int8)
    if amount is None:
        mu = np.log(cust["mean_value"][owner] * factor[cat]) - AMOUNT_SIGMA**2 / 2
        amount = rng.lognormal(mu, AMOUNT_SIGMA)
    amount = np.maximum(np.round(amount, 2), 1.0)
    if channel is None:
        cum = np.cumsum(cust["ch_probs"], axis=1).astype(np.float32)
        u = rng.random(m, dtype=np.float32)
        channel = np.zeros(m, dtype=np.int8)
        for j in range(len(CHANNELS) - 1):
            channel += u > cum[owner, j]
    qty = 1 + rng.poisson(np.array([c["extra_items"] for c in cats])[cat])
    spec = [SEGMENT_SPEC[s] for s in SEGMENTS]
    seg = cust["seg"][owner]
    mean_d = np.array([s["discount_share"] for s in spec])[seg]
    no_d = np.array([s["no_discount_prob"] for s in spec])[seg]
    d = rng.beta(2.0, 2.0 * (1 - mean_d) / mean_d)
    d = np.where(rng.random(m) < no_d, 0.0, np.minimum(d, 0.8))
    discount = np.round(amount * d / (1 - d), 2)
    rate = np.array([c["margin_rate"] for c in cats])[cat] + rng.normal(0, MARGIN_RATE_SD, m)
    margin = np.round(amount * np.clip(rate, 0.02, 0.8), 2)
    return {
        "amount": amount, "channel": channel.astype(np.int8), "cat": cat,
        "qty": qty.astype(np.int64), "discount": discount, "margin": margin,
    }  # fmt: skip


def _lines(
    owner: np.ndarray, t: np.ndarray, attrs: dict[str, np.ndarray], kind: int, campaign: int = -1
) -> dict[str, np.ndarray]:
    m = owner.size
    return {
        "owner": owner.astype(np.int32), "t": t, **attrs,
        "kind": np.full(m, kind, dtype=np.int8), "campaign": np.full(m, campaign, dtype=np.int8),
    }  # fmt: skip


def _concat_lines(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _window_sum(
    parts: list[dict[str, np.ndarray]], n: int, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per customer: purchase count and amount with ``lo_i <= t < hi_i`` (purchases only)."""
    count = np.zeros(n, dtype=np.int64)
    total = np.zeros(n)
    for lines in parts:
        o, t = lines["owner"], lines["t"]
        sel = (lines["kind"] != 2) & (t >= lo[o]) & (t < hi[o])
        count += _bincount(o[sel], n)
        total += _bincount(o[sel], n, lines["amount"][sel])
    return count, total


def _simulate_campaigns(
    rng: np.random.Generator,
    cust: dict[str, np.ndarray],
    life: dict[str, np.ndarray],
    base: dict[str, np.ndarray],
    clock: _Clock,
) -> tuple[dict[str, np.ndarray], list[dict[str, np.ndarray]], dict[str, Any]]:
    """Contacts, inserted purchase lines and truth of the campaigns."""
    n = cust["seg"].size
    seg = cust["seg"]
    lines_so_far = [base]
    contacts: list[dict[str, np.ndarray]] = []
    inserted: list[dict[str, np.ndarray]] = []
    truth: dict[str, Any] = {}
    for code, (cid, spec) in enumerate(CAMPAIGN_SPEC.items()):
        c0, c1 = clock.days(spec["contact_start"]), clock.days(spec["contact_end"])
        window = float(spec["outcome_window_days"])
        doc = {k: v for k, v in spec.items() if k not in ("session_channel",)}
        if c0 < 0 or c1 + window > clock.t_end:
            truth[cid] = {**doc, "generated": False, "note": "outside the simulated period"}
            continue
        # a day in the contact period, a time between the start's and the end's time of day
        day = np.floor(c0) + rng.integers(0, int(np.floor(c1) - np.floor(c0)) + 1, n)
        h0, h1 = c0 - np.floor(c0), c1 - np.floor(c1)
        contact = day + h0 + rng.random(n) * max(h1 - h0, 0.0)
        eligible = (cust["signup"] <= contact) & (life["dropout"] > contact)
        idx = np.flatnonzero(eligible).astype(np.int32)
        k_pre, pre = _window_sum(lines_so_far, n, contact - PRE_PERIOD_DAYS, contact)
        arms = list(spec["planned_split"])
        m = idx.size
        tau_tab = np.zeros((len(arms), len(SEGMENTS)))
        for a_i, arm in enumerate(arms):
            for s_i, s in enumerate(SEGMENTS):
                tau_tab[a_i, s_i] = spec["tau"].get(arm, {}).get(s, 0.0)
        cap = np.minimum(
            np.minimum(window, life["dropout"][idx] - contact[idx]), clock.t_end - contact[idx]
        )
        flags = spec["flag_rates"]
        if spec["design"] == "randomized":
            arm = rng.choice(len(arms), size=m, p=_p(spec["planned_split"].values())).astype(
                np.int8
            )
            # engagement: pre-period purchases relative to the segment's mean (mean 1 by segment)
            kp = k_pre[idx].astype(np.float64)
            k_sum = _bincount(seg[idx], len(SEGMENTS), kp)
            k_n = np.maximum(_bincount(seg[idx], len(SEGMENTS)), 1)
            k_mean = k_sum / k_n
            ratio = np.where(
                k_mean[seg[idx]] > 0, kp / np.where(k_mean > 0, k_mean, 1.0)[seg[idx]], 1.0
            )
            engagement = CAMPAIGN_ENGAGEMENT_FLOOR + (1 - CAMPAIGN_ENGAGEMENT_FLOOR) * ratio
            p0 = np.array([spec["p0"][s] for s in SEGMENTS])[seg[idx]] * engagement
            p = np.clip(p0 + tau_tab[arm, seg[idx]], 0.0, 0.95)
            converted = rng.random(m) < p
            revenue = np.where(
                converted,
                np.maximum(
                    np.round(
                        rng.gamma(
                            CAMPAIGN_REVENUE_SHAPE, cust["mean_value"][idx] / CAMPAIGN_REVENUE_SHAPE
                        ),
                        2,
                    ),
                    1.0,
                ),
                0.0,
            )
            treated = np.array([a != "control" for a in arms])[arm]
            conv_idx = np.flatnonzero(converted)
            owner = idx[conv_idx]
            t_conv = contact[owner] + rng.random(conv_idx.size) * cap[conv_idx]
            attrs = _order_attributes(
                rng, cust, owner, amount=revenue[conv_idx], channel=cust["preferred"][owner]
            )
            if spec.get("coupon_value", 0.0):
                attrs["discount"] = np.where(
                    treated[conv_idx], spec["coupon_value"], attrs["discount"]
                )
            new = _lines(owner, t_conv, attrs, kind=1, campaign=code)
            delivered = treated & (rng.random(m) < flags["delivered"])
            opened = delivered & (rng.random(m) < flags["opened"])
            clicked = opened & (rng.random(m) < flags["clicked"])
            v_rate = np.array([flags["visited"][a] for a in arms])[arm]
            visited = converted | (rng.random(m) < v_rate)
            contacts.append(
                {
                    "owner": idx, "campaign": np.full(m, code, np.int8), "arm": arm,
                    "contact": contact[idx],
                    "cost": np.where(treated, spec["cost_per_contact"], 0.0),
                    "delivered": delivered, "opened": opened, "clicked": clicked,
                    "delivered_na": ~treated, "flags_na": ~treated,
                    "visited": visited, "converted": converted,
                    "revenue": revenue, "pre": pre[idx], "p0_i": p0,
                }
            )  # fmt: skip
            inserted.append(new)
            lines_so_far.append(new)
            truth[cid] = {
                **doc,
                "generated": True,
                **_randomized_truth(spec, arms, seg[idx], arm, converted, revenue, p0, pre[idx]),
            }
        else:
            prop = spec["propensity"]
            logit = prop["intercept"] + prop["slope_log1p_pre_period_revenue"] * np.log1p(pre[idx])
            ps = 1.0 / (1.0 + np.exp(-logit))
            chosen = rng.random(m) < ps
            sel = idx[chosen]
            k = sel.size
            tau = tau_tab[0, seg[sel]]
            extra = rng.random(k) < tau
            owner = sel[extra]
            t_extra = contact[owner] + rng.random(owner.size) * cap[chosen][extra]
            amount = rng.gamma(
                CAMPAIGN_REVENUE_SHAPE, cust["mean_value"][owner] / CAMPAIGN_REVENUE_SHAPE
            )
            attrs = _order_attributes(
                rng, cust, owner, amount=amount, channel=cust["preferred"][owner]
            )
            new = _lines(owner, t_extra, attrs, kind=1, campaign=code)
            n_nat, rev_nat = _window_sum(lines_so_far, n, contact, contact + window)
            n_new, rev_new = _window_sum([new], n, contact, contact + window)
            n_all, rev_all = n_nat + n_new, rev_nat + rev_new
            converted = n_all[sel] > 0
            revenue = np.round(rev_all[sel], 2)
            delivered = rng.random(k) < flags["delivered"]
            visited = converted | (rng.random(k) < flags["visited"]["treatment"])
            contacts.append(
                {
                    "owner": sel, "campaign": np.full(k, code, np.int8), "arm": np.zeros(k, np.int8),
                    "contact": contact[sel], "cost": np.full(k, spec["cost_per_contact"]),
                    "delivered": delivered, "opened": np.zeros(k, bool), "clicked": np.zeros(k, bool),
                    "delivered_na": np.zeros(k, bool), "flags_na": np.ones(k, bool),
                    "visited": visited, "converted": converted,
                    "revenue": revenue, "pre": pre[sel], "p0_i": np.full(k, np.nan),
                }
            )  # fmt: skip
            inserted.append(new)
            lines_so_far.append(new)
            not_chosen = idx[~chosen]
            truth[cid] = {
                **doc,
                "generated": True,
                "eligibility": "customers active (signed up, not dropped out) at contact",
                "selection": "P(contacted) = 1 / (1 + exp(-(intercept + slope * log1p(pre_period_revenue))))",
                "effect_definition": (
                    "a call adds one purchase in the 14-day window with probability tau[segment]; "
                    "converted = any purchase in the window, revenue = their sum (read from orders)"
                ),
                **_observational_truth(
                    seg, sel, not_chosen, n_nat, rev_nat, converted, revenue, tau, extra, ps[chosen]
                ),
            }
    out = {k: np.concatenate([c[k] for c in contacts]) for k in contacts[0]} if contacts else {}
    return out, inserted, truth


def _diff_se(
    y: np.ndarray, treated: np.ndarray, control: np.ndarray
) -> tuple[float | None, float | None]:
    a, b = y[treated], y[control]
    if a.size < 2 or b.size < 2:
        return None, None
    return float(a.mean() - b.mean()), float(
        np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    )


def _randomized_truth(
    spec: dict[str, Any],
    arms: list[str],
    seg: np.ndarray,
    arm: np.ndarray,
    converted: np.ndarray,
    revenue: np.ndarray,
    p0_i: np.ndarray,
    pre: np.ndarray,
) -> dict[str, Any]:
    ctrl = arms.index("control")
    by_seg: dict[str, Any] = {}
    for s_i, s in enumerate(SEGMENTS):
        in_s = seg == s_i
        row: dict[str, Any] = {
            "p0": spec["p0"][s],
            "p0_expected": float(p0_i[in_s].mean()) if in_s.any() else None,
            "tau": {a: spec["tau"][a][s] for a in arms if a != "control"},
            "n": {a: int((in_s & (arm == k)).sum()) for k, a in enumerate(arms)},
            "conversions": {
                a: int((in_s & (arm == k) & converted).sum()) for k, a in enumerate(arms)
            },
            "revenue": {a: float(revenue[in_s & (arm == k)].sum()) for k, a in enumerate(arms)},
        }
        row["conversion_rate"] = {
            a: (row["conversions"][a] / row["n"][a] if row["n"][a] else None) for a in arms
        }
        row["realised_diff"], row["realised_se"] = {}, {}
        for k, a in enumerate(arms):
            if k == ctrl:
                continue
            d, se = _diff_se(converted.astype(float), in_s & (arm == k), in_s & (arm == ctrl))
            row["realised_diff"][a], row["realised_se"][a] = d, se
        by_seg[s] = row
    overall = {
        "n": {a: int((arm == k).sum()) for k, a in enumerate(arms)},
        "conversions": {a: int(((arm == k) & converted).sum()) for k, a in enumerate(arms)},
        "revenue": {a: float(revenue[arm == k].sum()) for k, a in enumerate(arms)},
    }
    overall["realised_diff"], overall["realised_se"], overall["tau_expected"] = {}, {}, {}
    for k, a in enumerate(arms):
        if k == ctrl:
            continue
        d, se = _diff_se(converted.astype(float), arm == k, arm == ctrl)
        overall["realised_diff"][a], overall["realised_se"][a] = d, se
        tau_s = np.array([spec["tau"][a][s] for s in SEGMENTS])
        overall["tau_expected"][a] = float(tau_s[seg].mean()) if seg.size else None
    corr = (
        float(np.corrcoef(revenue, pre)[0, 1])
        if seg.size > 2 and pre.std() > 0 and revenue.std() > 0
        else None
    )
    return {
        "eligibility": "customers active (signed up, not dropped out) at their contact time",
        "conversion_model": (
            "converted ~ Bernoulli(p0_i + tau[arm][segment]), p0_i = p0[segment] * (floor + "
            "(1 - floor) * k_i / mean_k[segment]), k_i = purchases in the pre-period; each "
            "conversion is one purchase inserted into orders within the window, amount = revenue"
        ),
        "revenue_model": (
            f"revenue | converted ~ Gamma(shape {CAMPAIGN_REVENUE_SHAPE:g}, mean = customer's mean order value)"
        ),
        "engagement_floor": CAMPAIGN_ENGAGEMENT_FLOOR,
        "control_flags": "delivered/opened/clicked are blank (NA) for control rows",
        "pre_period_revenue": f"purchase amounts in the {PRE_PERIOD_DAYS} days before contact",
        "revenue_pre_period_correlation": corr,
        "segments": by_seg,
        "overall": overall,
    }


def _observational_truth(
    seg: np.ndarray,
    sel: np.ndarray,
    not_chosen: np.ndarray,
    n_nat: np.ndarray,
    rev_nat: np.ndarray,
    converted: np.ndarray,
    revenue: np.ndarray,
    tau: np.ndarray,
    extra: np.ndarray,
    ps: np.ndarray,
) -> dict[str, Any]:
    nat_conv = n_nat[sel] > 0
    by_seg = {}
    for s_i, s in enumerate(SEGMENTS):
        m = seg[sel] == s_i
        mc = seg[not_chosen] == s_i
        by_seg[s] = {
            "n_contacted": int(m.sum()),
            "n_not_contacted_active": int(mc.sum()),
            "extra_purchases": int(extra[m].sum()),
            "conversion_rate": float(converted[m].mean()) if m.any() else None,
            "att_conversion_realised": float(converted[m].mean() - nat_conv[m].mean())
            if m.any()
            else None,
            "att_revenue_realised": float(revenue[m].mean() - rev_nat[sel][m].mean())
            if m.any()
            else None,
            "not_contacted_conversion_rate": float((n_nat[not_chosen][mc] > 0).mean())
            if mc.any()
            else None,
        }
    k = sel.size
    return {
        "n_contacted": int(k),
        "propensity_mean": float(ps.mean()) if k else None,
        "segments": by_seg,
        "overall": {
            "n_contacted": int(k),
            "extra_purchases": int(extra.sum()),
            "att_orders_expected": float(tau.mean()) if k else None,
            "att_conversion_realised": float(converted.mean() - nat_conv.mean()) if k else None,
            "att_revenue_realised": float(revenue.mean() - rev_nat[sel].mean()) if k else None,
            "conversion_rate_contacted": float(converted.mean()) if k else None,
            "conversion_rate_not_contacted_active": float((n_nat[not_chosen] > 0).mean())
            if not_chosen.size
            else None,
            "naive_conversion_difference": (
                float(converted.mean() - (n_nat[not_chosen] > 0).mean())
                if k and not_chosen.size
                else None
            ),
        },
    }


def _simulate_refunds(
    rng: np.random.Generator, base: dict[str, np.ndarray], clock: _Clock
) -> dict[str, np.ndarray]:
    sel = np.flatnonzero(rng.random(base["owner"].size) < REFUND_RATE)
    t = base["t"][sel] + 1.0 + rng.random(sel.size) * 20.0
    share = np.where(
        rng.random(sel.size) < PARTIAL_REFUND_SHARE, 0.2 + 0.7 * rng.random(sel.size), 1.0
    )
    keep = t < clock.t_end
    sel, t, share = sel[keep], t[keep], share[keep]
    amount = -np.round(base["amount"][sel] * share, 2)
    attrs = {
        "amount": amount,
        "channel": base["channel"][sel],
        "cat": base["cat"][sel],
        "qty": -base["qty"][sel],
        "discount": np.zeros(sel.size),
        "margin": -np.round(base["margin"][sel] * share, 2),
    }
    return _lines(base["owner"][sel], t, attrs, kind=2)


def _simulate_tickets(
    rng: np.random.Generator,
    cust: dict[str, np.ndarray],
    life: dict[str, np.ndarray],
    base: dict[str, np.ndarray],
    clock: _Clock,
) -> dict[str, np.ndarray]:
    sel = np.flatnonzero(rng.random(base["owner"].size) < SERVICE_TICKET_RATE)
    s_time = base["t"][sel] + 0.1 + rng.random(sel.size) * 9.9
    keep = s_time < clock.t_end
    s_owner, s_time = base["owner"][sel][keep], s_time[keep]
    ns, nc = s_owner.size, life["c_owner"].size
    owner = np.concatenate([s_owner, life["c_owner"]])
    opened = np.concatenate([s_time, life["c_time"]])
    complaint = np.concatenate([np.zeros(ns, bool), np.ones(nc, bool)])
    csat = np.concatenate(
        [rng.choice(5, size=ns, p=_p(CSAT_SERVICE)).astype(np.int8) + 1, life["c_csat"]]
    )
    categories = list(TICKET_CATEGORIES)
    cat = np.empty(ns + nc, dtype=np.int8)
    channel = np.empty(ns + nc, dtype=np.int8)
    first = np.empty(ns + nc)
    resolved = np.empty(ns + nc)
    for kind, mask in (("service", ~complaint), ("complaint", complaint)):
        spec = TICKET_SPEC[kind]
        k = int(mask.sum())
        levels = [categories.index(c) for c in spec["categories"]]
        cat[mask] = np.array(levels)[
            rng.choice(len(levels), size=k, p=_p(spec["categories"].values()))
        ]
        channel[mask] = rng.choice(len(TICKET_CHANNELS), size=k, p=_p(spec["channel_probs"]))
        first[mask] = (
            opened[mask]
            + rng.lognormal(np.log(spec["first_response_median_minutes"]), 1.0, k) / 1440.0
        )
        resolved[mask] = (
            first[mask] + rng.lognormal(np.log(spec["resolution_median_hours"]), 0.8, k) / 24.0
        )
    resolved = np.where(rng.random(ns + nc) < UNRESOLVED_SHARE, np.nan, resolved)
    first = np.where(first < clock.t_end, first, np.nan)
    resolved = np.where(resolved < clock.t_end, resolved, np.nan)
    order = np.argsort(opened, kind="stable")
    return {
        "owner": owner[order], "opened": opened[order], "first": first[order],
        "resolved": resolved[order], "csat": csat[order], "channel": channel[order],
        "cat": cat[order], "complaint": complaint[order], "categories": np.array(categories),
    }  # fmt: skip


def _simulate_events(
    rng: np.random.Generator,
    cust: dict[str, np.ndarray],
    life: dict[str, np.ndarray],
    contacts: dict[str, np.ndarray],
    clock: _Clock,
    season: _Season,
) -> dict[str, np.ndarray]:
    online = [CHANNELS.index(c) for c in FUNNEL_STEP_CONVERSION]
    sess_rate = np.array([SEGMENT_SPEC[s]["sessions_mean"] for s in SEGMENTS])[cust["seg"]]
    a, b = cust["signup"], life["active_end"]
    width = season.S(b) - season.S(a)
    # sessions_mean sessions over the whole active period: rate per unit of seasonal time
    owner, t0 = season.process(rng, a, b, sess_rate / np.maximum(width, 1e-9))
    probs = cust["ch_probs"][:, online]
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(owner.size)
    ch = np.zeros(owner.size, dtype=np.int8)
    for j in range(len(online) - 1):
        ch += u > cum[owner, j]
    campaign = np.full(owner.size, -1, dtype=np.int8)
    # campaign sessions: clicks of the randomized campaigns
    if contacts:
        clicked = contacts["clicked"] & ~contacts["flags_na"]
        c_owner = contacts["owner"][clicked]
        c_code = contacts["campaign"][clicked]
        names = list(CAMPAIGN_SPEC)
        c_ch = np.array(
            [
                list(FUNNEL_STEP_CONVERSION).index(
                    CAMPAIGN_SPEC[names[c]].get("session_channel", "web")
                )
                for c in range(len(names))
            ]
        )[c_code]
        c_t0 = (
            contacts["contact"][clicked]
            + np.minimum(rng.exponential(3.0, c_owner.size), 48.0) / 24.0
        )
        keep = c_t0 < clock.t_end
        owner = np.concatenate([owner, c_owner[keep]])
        t0 = np.concatenate([t0, c_t0[keep]])
        ch = np.concatenate([ch, c_ch[keep].astype(np.int8)])
        campaign = np.concatenate([campaign, c_code[keep]])
    # funnel depth: consecutive successes of the step conversions
    steps = FUNNEL_STEPS[1:]
    p = np.array([[FUNNEL_STEP_CONVERSION[c][s] for s in steps] for c in FUNNEL_STEP_CONVERSION])[
        ch
    ]
    ok = rng.random(p.shape) < p
    depth = np.cumprod(ok, axis=1).sum(axis=1)
    order = np.lexsort((owner, t0))
    owner, t0, ch, campaign, depth = (
        owner[order],
        t0[order],
        ch[order],
        campaign[order],
        depth[order],
    )
    n_ev = depth + 1
    sess = np.repeat(np.arange(owner.size), n_ev)
    first_row = np.concatenate([[0], np.cumsum(n_ev)[:-1]])
    step = np.arange(sess.size) - first_row[sess]
    mean_gap = np.array([0.0, *(FUNNEL_STEP_MINUTES[s] for s in steps)])[step]
    gap = np.where(step > 0, rng.exponential(1.0, sess.size) * mean_gap + 10.0 / 60.0, 0.0) / 1440.0
    cs = np.cumsum(gap)
    t = t0[sess] + cs - cs[first_row][sess]
    return {
        "sess_owner": owner, "sess_t0": t0, "sess_ch": ch, "sess_campaign": campaign,
        "depth": depth, "sess": sess, "step": step.astype(np.int8), "t": t, "online": np.array(online),
    }  # fmt: skip


# ============================================================================================
# Public API
# ============================================================================================


def _check_args(n_customers: int, seed: int, start: str, end: str, as_of: str) -> _Clock:
    if isinstance(n_customers, bool) or not isinstance(n_customers, (int, np.integer)):
        raise TypeError(
            f"n_customers must be an int, got {type(n_customers).__name__} {n_customers!r}"
        )
    if not 1 <= n_customers <= _MAX_CUSTOMERS:
        raise ValueError(f"n_customers must be in [1, {_MAX_CUSTOMERS:,}], got {n_customers!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    try:
        t0, t_end, t_asof = (pd.Timestamp(x).normalize() for x in (start, end, as_of))
    except (ValueError, TypeError) as err:
        raise ValueError(f"start, end and as_of must be dates (YYYY-MM-DD): {err}") from None
    if not t0 < t_asof < t_end:
        raise ValueError(
            f"dates must satisfy start < as_of < end, got start={start!r}, as_of={as_of!r}, end={end!r}"
        )
    day = pd.Timedelta(days=1)
    return _Clock(t0=t0, t_end=(t_end - t0) / day + 1.0, t_asof=(t_asof - t0) / day + 1.0)


def generate(
    n_customers: int,
    *,
    seed: int = 42,
    start: str = "2023-01-01",
    end: str = "2025-12-31",
    as_of: str = "2025-09-30",
) -> SynthData:
    """Simulate a CRM customer base with known ground truth.

    Parameters
    ----------
    n_customers : int
        Customers to simulate (1 .. 8,000,000). About 10 order lines per customer come out
        with the default dates.
    seed : int, default 42
        Seed of every random draw; the same seed gives identical tables.
    start, end : str, default "2023-01-01", "2025-12-31"
        First and last day of the simulated period (business launch and export date).
    as_of : str, default "2025-09-30"
        Analysis date: sign-ups fall in ``[start, as_of]``; churn truth uses the 90 days after.

    Returns
    -------
    SynthData
        Clean canonical tables, ``truth`` (JSON-able) and ``truth_customers``.

    Raises
    ------
    TypeError
        ``n_customers`` is not an int.
    ValueError
        ``n_customers`` out of range, negative ``seed``, or dates not ``start < as_of < end``.

    Examples
    --------
    >>> data = generate(500, seed=1)
    >>> sorted(data.tables)
    ['campaign_contacts', 'customers', 'events', 'orders', 'tickets']
    >>> data.truth["segments"]["vip"]["share"]
    0.08
    """
    clock = _check_args(n_customers, seed, start, end, as_of)
    n = int(n_customers)
    streams = np.random.SeedSequence(int(seed)).spawn(len(_STREAMS))
    rng = {name: np.random.default_rng(s) for name, s in zip(_STREAMS, streams, strict=True)}
    season = _Season(clock)

    cust = _simulate_customers(rng["customers"], n, clock, season)
    life = _simulate_lifetimes(rng["lifetimes"], cust, clock)
    owner, t = season.process(
        rng["orders"], cust["signup"], life["active_end"], cust["rate"] / DAYS_PER_MONTH
    )
    base = _lines(owner, t, _order_attributes(rng["orders"], cust, owner), kind=0)
    contacts, inserted, camp_truth = _simulate_campaigns(rng["campaigns"], cust, life, base, clock)
    refunds = _simulate_refunds(rng["refunds"], base, clock)
    tickets = _simulate_tickets(rng["tickets"], cust, life, base, clock)
    events = _simulate_events(rng["events"], cust, life, contacts, clock, season)
    lines = _concat_lines([base, *inserted, refunds])
    del base, inserted, refunds
    order = np.argsort(lines["t"], kind="stable")
    for key in list(lines):
        lines[key] = lines[key][order]
    del order

    cid = _ids("C", np.arange(1_000_001, 1_000_001 + n), 7)
    frames = _frames(cust, lines, contacts, tickets, events, cid, clock)
    truth, truth_customers = _truth(
        cust, life, lines, contacts, tickets, events, camp_truth, cid, clock,
        n=n, seed=int(seed), start=start, end=end, as_of=as_of,
    )  # fmt: skip
    return SynthData(**frames, truth=truth, truth_customers=truth_customers)


def _frames(
    cust: dict[str, np.ndarray],
    lines: dict[str, np.ndarray],
    contacts: dict[str, np.ndarray],
    tickets: dict[str, np.ndarray],
    events: dict[str, np.ndarray],
    cid: pa.Array,
    clock: _Clock,
) -> dict[str, pd.DataFrame]:
    # customers ---------------------------------------------------------------------------
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
    # orders ------------------------------------------------------------------------------
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
    # campaign contacts -------------------------------------------------------------------
    names = list(CAMPAIGN_SPEC)
    if contacts:
        arm_labels = [list(CAMPAIGN_SPEC[c]["planned_split"]) for c in names]
        flat = [a for labels in arm_labels for a in labels]
        offset = np.cumsum([0, *(len(x) for x in arm_labels)])[:-1]
        arm_code = offset[contacts["campaign"]] + contacts["arm"]
        chan = [CAMPAIGN_SPEC[c]["channel"] for c in names]

        def flag(x: np.ndarray, na: np.ndarray) -> pd.Series:
            return pd.Series(pd.array(x, dtype="boolean")).mask(na)

        order = np.lexsort((contacts["owner"], contacts["campaign"]))
        cc = pd.DataFrame(
            {
                "customer_id": _str(pc.take(cid, pa.array(contacts["owner"]))),
                "campaign_id": _str(_take(names, contacts["campaign"])),
                "arm": _str(_take(flat, arm_code)),
                "contact_time": clock.to_datetime(contacts["contact"]),
                "channel": _str(_take(chan, contacts["campaign"])),
                "cost": contacts["cost"].astype(np.float64),
                "delivered": flag(contacts["delivered"], contacts["delivered_na"]),
                "opened": flag(contacts["opened"], contacts["flags_na"]),
                "clicked": flag(contacts["clicked"], contacts["flags_na"]),
                "visited": contacts["visited"],
                "converted": contacts["converted"],
                "revenue": contacts["revenue"],
                "pre_period_revenue": np.round(contacts["pre"], 2),
            }
        )
        cc = cc.iloc[order].reset_index(drop=True)
    else:
        cc = pd.DataFrame({c: pd.Series(dtype="object") for c in TABLES["campaign_contacts"].names})
    # events ------------------------------------------------------------------------------
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
    # tickets -----------------------------------------------------------------------------
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
    return {
        "customers": customers,
        "orders": orders,
        "campaign_contacts": cc,
        "events": ev,
        "tickets": tk,
    }


# ============================================================================================
# Truth
# ============================================================================================


def _truth(
    cust: dict[str, np.ndarray],
    life: dict[str, np.ndarray],
    lines: dict[str, np.ndarray],
    contacts: dict[str, np.ndarray],
    tickets: dict[str, np.ndarray],
    events: dict[str, np.ndarray],
    camp_truth: dict[str, Any],
    cid: pa.Array,
    clock: _Clock,
    *,
    n: int,
    seed: int,
    start: str,
    end: str,
    as_of: str,
) -> tuple[dict[str, Any], pd.DataFrame]:
    seg = cust["seg"]
    seg_n = _bincount(seg, len(SEGMENTS))
    purchase = lines["kind"] != 2
    o, t = lines["owner"], lines["t"]
    n_purch = _bincount(o[purchase], n)
    before = _bincount(o[purchase & (t < clock.t_asof)], n) > 0
    w_end = clock.t_asof + CHURN_WINDOW_DAYS
    in_window = _bincount(o[purchase & (t >= clock.t_asof) & (t < w_end)], n) > 0
    dropped = life["dropout"] < clock.t_end
    alive_asof = life["dropout"] >= clock.t_asof
    churned_in_window = ~in_window & (life["dropout"] < w_end)
    unhappy = dropped & (life["dropout"] - life["last_bad"] <= UNHAPPY_DAYS)
    reason_code = np.where(~dropped, 2, np.where(unhappy, 0, 1))
    reasons = ["unhappy", "drift", "alive"]
    churn_nc = before & ~in_window  # non-contractual churn label among customers with a purchase

    def by_seg(values: np.ndarray, mask: np.ndarray | None = None) -> dict[str, float | None]:
        m = np.ones(n, bool) if mask is None else mask
        num = _bincount(seg[m], len(SEGMENTS), values[m].astype(np.float64))
        den = _bincount(seg[m], len(SEGMENTS))
        return dict(zip(SEGMENTS, _rates(num, den), strict=True))

    amount_p = lines["amount"][purchase]
    seg_lines = seg[o[purchase]]
    months_active = np.maximum(life["active_end"] - cust["signup"], 0) / DAYS_PER_MONTH
    segments = {}
    for s_i, s in enumerate(SEGMENTS):
        in_s = seg == s_i
        amt = amount_p[seg_lines == s_i]
        segments[s] = {
            **SEGMENT_SPEC[s],
            "channel_probs": dict(zip(CHANNELS, SEGMENT_CHANNEL_PROBS[s], strict=True)),
            "n": int(seg_n[s_i]),
            "realised_share": float(seg_n[s_i] / n),
            "purchases_per_customer": float(n_purch[in_s].mean()) if in_s.any() else None,
            "purchases_per_active_month": (
                float(n_purch[in_s].sum() / months_active[in_s].sum())
                if months_active[in_s].sum() > 0
                else None
            ),
            "mean_amount": float(amt.mean()) if amt.size else None,
            "median_amount": float(np.median(amt)) if amt.size else None,
        }
    # monthly purchase counts (seasonality as realised)
    months = clock.to_datetime(t[purchase]).astype("datetime64[M]")
    m0 = np.datetime64(clock.t0.strftime("%Y-%m"), "M")
    m_counts = (
        _bincount((months - m0).astype(np.int64), 0) if months.size else np.zeros(0, np.int64)
    )
    monthly = {str(m0 + i): int(c) for i, c in enumerate(m_counts)}
    refunds = lines["kind"] == 2
    n_base = int((lines["kind"] == 0).sum())
    cats = list(CATEGORY_SPEC)
    cat_counts = _bincount(lines["cat"][purchase], len(cats))
    ch_counts = _bincount(lines["channel"][purchase], len(CHANNELS))
    ev_ch = list(FUNNEL_STEP_CONVERSION)
    depth, sess_ch = events["depth"], events["sess_ch"]
    funnel_real = {}
    for c_i, c in enumerate(ev_ch):
        d = depth[sess_ch == c_i]
        reach = [int((d >= k).sum()) for k in range(len(FUNNEL_STEPS))]
        funnel_real[c] = {
            "sessions": reach[0],
            "reached": dict(zip(FUNNEL_STEPS, reach, strict=True)),
            "step_conversion": {
                FUNNEL_STEPS[k]: (reach[k] / reach[k - 1] if reach[k - 1] else None)
                for k in range(1, len(FUNNEL_STEPS))
            },
        }
    hr = life["hazard_ratio"]
    truth: dict[str, Any] = {
        "generator": {
            "module": "workbench.synth",
            "version": GENERATOR_VERSION,
            "seed": seed,
            "n_customers": n,
            "start": str(pd.Timestamp(start).date()),
            "end": str(pd.Timestamp(end).date()),
            "as_of": str(pd.Timestamp(as_of).date()),
            "time_unit_month_days": DAYS_PER_MONTH,
        },
        "segments": segments,
        "heterogeneity": {
            "rate_gamma_shape": RATE_GAMMA_SHAPE,
            "spend_gamma_shape": SPEND_GAMMA_SHAPE,
            "amount_lognormal_sigma": AMOUNT_SIGMA,
            "note": "customer rate = segment rate * Gamma(shape, 1/shape); mean order value likewise",
        },
        "customers": {
            "n": n,
            "signup_growth_per_year": SIGNUP_GROWTH_PER_YEAR,
            "signup_window": [str(pd.Timestamp(start).date()), str(pd.Timestamp(as_of).date())],
            "acquisition_channel_shares": ACQUISITION_CHANNELS,
            "member_level_shares": MEMBER_LEVELS,
            "gender_shares": GENDERS,
            "age_at_signup": AGE_SPEC,
            "city_shares": CITIES,
            "preferred_channel_counts": dict(
                zip(CHANNELS, _bincount(cust["preferred"], len(CHANNELS)).tolist(), strict=True)
            ),
            "covariates_independent_of_segment": True,
        },
        "seasonality": {
            "month_factors": MONTH_FACTORS,
            "special_days": SPECIAL_DAYS,
            "cny_dip": CNY_DIP,
            "cny_dates": {
                str(y): d
                for y, d in CNY_DATES.items()
                if clock.t0.year <= y <= (clock.t0 + pd.Timedelta(days=clock.t_end)).year
            },
            "normalisation": "daily factors divided by their mean within each calendar year",
            "hour_weights": list(HOUR_WEIGHTS),
            "monthly_purchases": monthly,
        },
        "orders": {
            "n_lines": int(lines["owner"].size),
            "n_purchases": int(purchase.sum()),
            "n_background_purchases": n_base,
            "n_campaign_purchases": int((lines["kind"] == 1).sum()),
            "n_refund_lines": int(refunds.sum()),
            "amount_model": "lognormal(log(mean_i * price_factor[category]) - sigma^2/2, sigma)",
            "mean_purchase_amount": float(amount_p.mean()) if amount_p.size else None,
            "categories": CATEGORY_SPEC,
            "category_counts": dict(zip(cats, cat_counts.tolist(), strict=True)),
            "channels": list(CHANNELS),
            "channel_counts": dict(zip(CHANNELS, ch_counts.tolist(), strict=True)),
            "margin_rate_sd": MARGIN_RATE_SD,
            "status_values": {"purchase": "paid", "refund": "refunded"},
        },
        "refunds": {
            "rate": REFUND_RATE,
            "partial_share": PARTIAL_REFUND_SHARE,
            "delay_days": [1, 21],
            "applies_to": "background purchases (not campaign purchases); refunds after end are dropped",
            "n_refund_lines": int(refunds.sum()),
            "realised_rate": float(refunds.sum() / n_base) if n_base else None,
            "refunded_amount": float(-lines["amount"][refunds].sum()),
        },
        "churn": {
            "model": (
                "latent exponential lifetime from sign-up; hazard = base_hazard_per_month[segment] "
                "* prod(hazard_ratios) * (bad_complaint_factor after the first complaint with "
                "CSAT <= csat_max); covariates as of sign-up; the segment is an unobserved frailty"
            ),
            "base_hazard_per_month": {
                s: SEGMENT_SPEC[s]["base_hazard_per_month"] for s in SEGMENTS
            },
            "hazard_ratios": HAZARD_RATIOS,
            "reference_levels": HAZARD_REFERENCE,
            "age_reference_years": AGE_REFERENCE,
            "bad_complaint": {
                "csat_max": BAD_CSAT_MAX,
                "hazard_factor": BAD_COMPLAINT_FACTOR,
                "applies": "from the first bad complaint on, for the rest of the lifetime",
                "complaint_rate_per_month": {
                    s: SEGMENT_SPEC[s]["complaint_rate_per_month"] for s in SEGMENTS
                },
                "customers_with_bad_complaint": int(np.isfinite(life["first_bad"]).sum()),
            },
            "unhappy_days": UNHAPPY_DAYS,
            "churn_reasons": {
                "unhappy": f"dropped out (before end) within {UNHAPPY_DAYS} days after a bad complaint",
                "drift": "dropped out before end otherwise",
                "alive": "no dropout before end",
            },
            "churn_reason_counts": dict(
                zip(reasons, _bincount(reason_code, 3).tolist(), strict=True)
            ),
            "window_days": CHURN_WINDOW_DAYS,
            "window": [
                str(clock.t0 + pd.Timedelta(days=clock.t_asof)),
                str(clock.t0 + pd.Timedelta(days=w_end)),
            ],
            "definition": (
                f"no purchase in the {CHURN_WINDOW_DAYS} days after as_of, among customers with a "
                "purchase on or before as_of (realised from the generated orders)"
            ),
            "n_eligible": int(before.sum()),
            "n_eligible_by_segment": dict(
                zip(SEGMENTS, _bincount(seg[before], len(SEGMENTS)).tolist(), strict=True)
            ),
            "churn_rate_overall": float(churn_nc[before].mean()) if before.any() else None,
            "churn_rate_by_segment": by_seg(churn_nc, before),
            "latent_churned_in_window_rate_by_segment": by_seg(churned_in_window, before),
            "alive_at_as_of_share_by_segment": by_seg(alive_asof),
            "dropped_out_before_end_share_by_segment": by_seg(dropped),
            "mean_hazard_ratio": float(hr.mean()),
        },
        "channels": {
            "values": list(CHANNELS),
            "segment_channel_probs": {
                s: dict(zip(CHANNELS, SEGMENT_CHANNEL_PROBS[s], strict=True)) for s in SEGMENTS
            },
            "dirichlet_concentration": CHANNEL_CONCENTRATION,
            "preferred_channel": "argmax of the customer's own channel probabilities (truth_customers)",
        },
        "campaigns": camp_truth,
        "funnel": {
            "steps": list(FUNNEL_STEPS),
            "step_conversion": FUNNEL_STEP_CONVERSION,
            "step_minutes_mean": FUNNEL_STEP_MINUTES,
            "sessions_mean_by_segment": {s: SEGMENT_SPEC[s]["sessions_mean"] for s in SEGMENTS},
            "session_channel": "customer's channel probabilities restricted to app/web/mini_program",
            "campaign_sessions": "one session per click of a randomized campaign, within 48 h of contact",
            "n_sessions": int(depth.size),
            "n_campaign_sessions": int((events["sess_campaign"] >= 0).sum()),
            "n_events": int(events["t"].size),
            "events_per_customer": float(events["t"].size / n),
            "realised": funnel_real,
            "note": "funnel 'order' events are a behavioural sample, not matched to orders rows",
        },
        "tickets": {
            "n": int(tickets["owner"].size),
            "n_complaints": int(tickets["complaint"].sum()),
            "n_bad_complaints": int(
                (tickets["complaint"] & (tickets["csat"] <= BAD_CSAT_MAX)).sum()
            ),
            "service_ticket_rate_per_purchase": SERVICE_TICKET_RATE,
            "unresolved_share": UNRESOLVED_SHARE,
            "csat_probs": {"complaint": list(CSAT_COMPLAINT), "service": list(CSAT_SERVICE)},
            "spec": TICKET_SPEC,
        },
        "defects": {"planted": False},
    }
    pref = cust["preferred"]
    tc = pd.DataFrame(
        {
            "customer_id": _str(cid),
            "segment": _str(_take(list(SEGMENTS), seg)),
            "order_rate_per_month": cust["rate"],
            "mean_order_value": cust["mean_value"],
            "rate_multiplier": cust["rate_mult"],
            "spend_multiplier": cust["spend_mult"],
            "preferred_channel": _str(_take(list(CHANNELS), pref)),
            **{f"p_{c}": cust["ch_probs"][:, j] for j, c in enumerate(CHANNELS)},
            "hazard_ratio": hr,
            "hazard_per_month": life["hazard_per_month"],
            "first_bad_complaint_at": clock.to_datetime(life["first_bad"]),
            "dropout_date": clock.to_datetime(np.where(dropped, life["dropout"], np.nan)),
            "alive_at_as_of": alive_asof,
            "n_purchases": n_purch,
            "purchased_before_as_of": before,
            "purchased_in_window": in_window,
            "churned_in_window": churned_in_window,
            "churn_reason": _str(_take(reasons, reason_code)),
        }
    )
    return _jsonable(truth), tc


# ============================================================================================
# Writing files
# ============================================================================================


def _write_gzip(path: Path, data: bytes) -> None:
    """Gzip ``data`` byte-deterministically (no file name, mtime 0)."""
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz,
    ):
        gz.write(data)


def _csv_bytes(frame: pd.DataFrame, *, encoding: str, bom: bool = False) -> bytes:
    text = frame.to_csv(index=False, lineterminator="\n")
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def _pick(rng: np.random.Generator, pool: np.ndarray, k: int) -> np.ndarray:
    """``k`` distinct elements of ``pool`` (fewer when the pool is smaller), sorted."""
    k = int(min(max(k, 0), pool.size))
    return np.sort(rng.choice(pool, size=k, replace=False)) if k else pool[:0]


def _export_orders(
    data: SynthData, rng: np.random.Generator, *, defects: bool, clock: _Clock
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The orders export (Chinese headers, text values) and what was planted."""
    o = data.orders
    n = len(o)
    purchase_rows = np.flatnonzero(~o["is_refund"].to_numpy())
    refund_rows = np.flatnonzero(o["is_refund"].to_numpy())
    info: dict[str, Any] = {"n_rows_clean": n}
    # 1. extra rows as canonical values: orphans, future, pre-launch, extreme spenders
    extra_src: list[np.ndarray] = []
    extra_kind: list[str] = []
    if defects:
        n_orphan = int(round(DEFECT_SPEC["orders_orphan_share"] * n))
        src = _pick(rng, purchase_rows, n_orphan)
        extra_src.append(src)
        extra_kind += ["orphan"] * src.size
        for kind, count in (
            ("future", DEFECT_SPEC["orders_future_dates"]),
            ("prelaunch", DEFECT_SPEC["orders_prelaunch_dates"]),
        ):
            src = _pick(rng, purchase_rows, count)
            extra_src.append(src)
            extra_kind += [kind] * src.size
        # extreme spenders: distinct customers, one absurd order each
        first_rows = purchase_rows[
            np.unique(o["customer_id"].to_numpy()[purchase_rows], return_index=True)[1]
        ]
        src = _pick(rng, first_rows, DEFECT_SPEC["orders_extreme_spenders"])
        extra_src.append(src)
        extra_kind += ["extreme"] * src.size
    src_rows = np.concatenate(extra_src) if extra_src else np.zeros(0, np.int64)
    kinds = np.array(extra_kind, dtype=object)
    extra = o.iloc[src_rows].reset_index(drop=True).copy()
    k = len(extra)
    extra["order_id"] = _str(_ids("O", np.arange(n + 1, n + k + 1), 10)) if k else extra["order_id"]
    if k:
        is_orphan = kinds == "orphan"
        orphan_ids = 9_000_000 + rng.choice(1_000_000, size=int(is_orphan.sum()), replace=False)
        cust_ids = extra["customer_id"].to_numpy(dtype=object)
        cust_ids[is_orphan] = np.asarray(_ids("C", orphan_ids, 7).to_pylist(), dtype=object)
        extra["customer_id"] = pd.Series(cust_ids, dtype="str")
        times = extra["order_time"].to_numpy().copy()
        fut = kinds == "future"
        fut_days = clock.t_end + 365 + rng.random(int(fut.sum())) * 300
        times[fut] = clock.to_datetime(fut_days)
        pre = kinds == "prelaunch"
        pre_vals = np.array(
            [pd.Timestamp(v).to_datetime64() for v in DEFECT_SPEC["prelaunch_values"]]
        )
        times[pre] = pre_vals[np.arange(int(pre.sum())) % pre_vals.size].astype("datetime64[ns]")
        extra["order_time"] = times
        ext = kinds == "extreme"
        amounts = extra["amount"].to_numpy().copy()
        ext_vals = np.array(DEFECT_SPEC["extreme_amounts"])
        amounts[ext] = ext_vals[np.arange(int(ext.sum())) % ext_vals.size]
        extra["amount"] = amounts
        margin = extra["margin"].to_numpy().copy()
        margin[ext] = np.round(amounts[ext] * 0.3, 2)
        extra["margin"] = margin
        disc = extra["discount"].to_numpy().copy()
        disc[ext] = 0.0
        extra["discount"] = disc
    full = pd.concat([o, extra], ignore_index=True) if k else o
    m = len(full)
    # 2. text values: dates in mixed styles, money with some ￥ strings
    styles = list(_ORDER_DATE_STYLES)
    if defects:
        codes = rng.choice(len(styles), size=m, p=_p(_ORDER_DATE_STYLES.values()))
        codes[n:] = 0  # extra rows keep the main style so their dates stay readable
    else:
        codes = np.zeros(m, dtype=np.int64)
    ts = full["order_time"].to_numpy()
    when = _fmt_mixed_dates(ts, styles, codes)
    amount = full["amount"].to_numpy()
    yuan = (
        (rng.random(m) < DEFECT_SPEC["orders_money_string_share"]) if defects else np.zeros(m, bool)
    )
    money = pc.if_else(pa.array(yuan), _fmt_money(amount, yuan=True), _fmt_money(amount))
    cols = EXPORT_COLUMNS["orders"]
    out = pd.DataFrame(
        {
            cols["order_id"]: full["order_id"],
            cols["customer_id"]: full["customer_id"],
            cols["order_time"]: _str(when),
            cols["amount"]: _str(money),
            cols["channel"]: full["channel"],
            cols["status"]: full["status"],
            cols["is_refund"]: _str(
                _take(["否", "是"], full["is_refund"].to_numpy().astype(np.int8))
            ),
            cols["quantity"]: _str(_num_str(full["quantity"].to_numpy())),
            cols["discount"]: _str(_fmt_money(full["discount"].to_numpy())),
            cols["margin"]: _str(_fmt_money(full["margin"].to_numpy())),
            cols["product_category"]: full["product_category"],
        }
    )
    style_counts = dict(
        zip(styles, np.bincount(codes, minlength=len(styles)).tolist(), strict=True)
    )
    if not defects:
        info.update({"n_rows_written": m, "date_styles": style_counts})
        return out, info
    # 3. in-place defects on clean rows: unflagged negative refunds, unparseable amounts
    neg = _pick(rng, refund_rows, DEFECT_SPEC["orders_negative_not_refund"])
    out.loc[neg, cols["status"]] = "paid"
    out.loc[neg, cols["is_refund"]] = "否"
    free = np.setdiff1d(purchase_rows, src_rows)
    # a fixed handful, but never more than 0.2 % of the rows (the intake tolerates 1 %)
    bad = _pick(rng, free, min(DEFECT_SPEC["orders_unparseable_amounts"], max(1, int(0.002 * n))))
    bad_vals = np.array(DEFECT_SPEC["unparseable_values"], dtype=object)[
        np.arange(bad.size) % len(DEFECT_SPEC["unparseable_values"])
    ]
    out.loc[bad, cols["amount"]] = bad_vals
    # 4. exact duplicates of untouched clean rows, right after their original
    free = np.setdiff1d(np.arange(n), np.concatenate([neg, bad, src_rows]))
    dup = _pick(rng, free, int(round(DEFECT_SPEC["orders_exact_duplicate_share"] * n)))
    pos = np.concatenate([np.arange(n, dtype=np.float64), rng.random(k) * n, dup + 0.5])
    rows = np.concatenate([np.arange(m), dup])
    order = np.argsort(pos, kind="stable")
    out = out.iloc[rows[order]].reset_index(drop=True)
    amount_text = out[cols["amount"]]
    ids = extra["order_id"].tolist() if k else []
    kinds_l = kinds.tolist()

    def of(kind: str) -> list[str]:
        return [i for i, kk in zip(ids, kinds_l, strict=True) if kk == kind]

    info.update(
        {
            "n_rows_written": int(len(out)),
            "exact_duplicate_rows": {"count": int(dup.size), "order_ids": o["order_id"].iloc[dup].tolist()},
            "orphan_customer_rows": {
                "count": len(of("orphan")),
                "order_ids": of("orphan"),
                "customer_ids": extra["customer_id"][kinds == "orphan"].tolist() if k else [],
            },
            "future_dates": {
                "count": len(of("future")), "order_ids": of("future"),
                "values": [str(v) for v in extra["order_time"][kinds == "future"]] if k else [],
            },
            "prelaunch_dates": {
                "count": len(of("prelaunch")), "order_ids": of("prelaunch"),
                "values": [str(v) for v in extra["order_time"][kinds == "prelaunch"]] if k else [],
            },
            "extreme_spenders": {
                "count": len(of("extreme")), "order_ids": of("extreme"),
                "customer_ids": extra["customer_id"][kinds == "extreme"].tolist() if k else [],
                "amounts": extra["amount"][kinds == "extreme"].tolist() if k else [],
            },
            "negative_not_refund": {
                "count": int(neg.size), "order_ids": o["order_id"].iloc[neg].tolist(),
                "note": "refund lines written with status 'paid' and 是否退款 '否'",
            },
            "unparseable_amounts": {
                "count": int(bad.size), "order_ids": o["order_id"].iloc[bad].tolist(),
                "values": bad_vals.tolist(),
            },
            "money_strings": {
                "count": int(amount_text.str.startswith("￥").sum()) + int(amount_text.str.startswith("-￥").sum()),
                "example": "￥1,234.50",
            },
            "date_styles": {s: int(c) for s, c in style_counts.items()},
            "date_styles_note": "counts before duplicating rows; styles without a time drop the time of day",
        }
    )  # fmt: skip
    return out, info


def _notes(rng: np.random.Generator, n: int) -> pa.Array:
    """High-cardinality free text (``备注``), blank for most customers."""
    part = rng.integers(0, len(_NOTE_PARTS), n)
    num = rng.integers(100_000, 100_000_000, n)
    text = _join(
        _take([p[0] for p in _NOTE_PARTS], part),
        _num_str(num),
        _take([p[1] for p in _NOTE_PARTS], part),
    )
    return pc.if_else(pa.array(rng.random(n) < _NOTE_SHARE), text, pa.scalar(""))


def _export_customers(
    data: SynthData, rng: np.random.Generator, *, defects: bool
) -> tuple[pd.DataFrame, dict[str, Any]]:
    c = data.customers
    n = len(c)
    cols = EXPORT_COLUMNS["customers"]
    styles = list(_SIGNUP_DATE_STYLES)
    codes = (
        rng.choice(len(styles), size=n, p=_p(_SIGNUP_DATE_STYLES.values()))
        if defects
        else np.zeros(n, np.int64)
    )
    out = pd.DataFrame(
        {
            cols["customer_id"]: c["customer_id"],
            cols["name"]: c["name"],
            cols["phone"]: c["phone"],
            cols["email"]: c["email"],
            cols["gender"]: c["gender"],
            cols["birth_date"]: _str(_fmt_dates(c["birth_date"].to_numpy(), "2024-03-05")),
            cols["city"]: c["city"],
            cols["signup_date"]: _str(_fmt_mixed_dates(c["signup_date"].to_numpy(), styles, codes)),
            cols["acquisition_channel"]: c["acquisition_channel"],
            cols["member_level"]: c["member_level"],
        }
    )
    info: dict[str, Any] = {
        "n_rows_clean": n,
        "date_styles": dict(
            zip(styles, np.bincount(codes, minlength=len(styles)).tolist(), strict=True)
        ),
    }
    if not defects:
        info["n_rows_written"] = n
        return out, info
    out[EXTRA_CUSTOMER_COLUMNS[0]] = "中国"
    out[EXTRA_CUSTOMER_COLUMNS[1]] = _str(_notes(rng, n))
    everyone = np.arange(n)
    n_dup = max(1, int(round(DEFECT_SPEC["customers_duplicate_key_share"] * n)))
    dup = _pick(rng, everyone, n_dup)
    rest = np.setdiff1d(everyone, dup)
    ph_vals = np.array(DEFECT_SPEC["placeholders"], dtype=object)
    placeholders: dict[str, Any] = {}
    for canon in ("gender", "city"):
        rows = _pick(rng, rest, int(round(DEFECT_SPEC["customers_placeholder_share"] * n)))
        vals = ph_vals[rng.integers(0, ph_vals.size, rows.size)]
        out.loc[rows, cols[canon]] = vals
        placeholders[canon] = {
            "header": cols[canon],
            "count": int(rows.size),
            "values": {str(v): int((vals == v).sum()) for v in ph_vals},
            "customer_ids": c["customer_id"].iloc[rows].tolist(),
        }
    # duplicate keys: the same customer again with another city
    copies = out.iloc[dup].copy()
    city_list = np.array(list(CITIES), dtype=object)
    orig_code = pd.Categorical(c["city"].iloc[dup], categories=list(CITIES)).codes
    shift = rng.integers(1, city_list.size, dup.size)
    copies[cols["city"]] = city_list[(orig_code + shift) % city_list.size]
    pos = np.concatenate([everyone.astype(np.float64), rng.random(dup.size) * n])
    both = pd.concat([out, copies], ignore_index=True)
    out = both.iloc[np.argsort(pos, kind="stable")].reset_index(drop=True)
    info.update(
        {
            "n_rows_written": int(len(out)),
            "duplicate_keys": {
                "count": int(dup.size),
                "customer_ids": c["customer_id"].iloc[dup].tolist(),
                "note": "each appears twice: the original row and a copy with another city",
            },
            "placeholders": placeholders,
            "constant_column": {"header": EXTRA_CUSTOMER_COLUMNS[0], "value": "中国"},
            "free_text_column": {
                "header": EXTRA_CUSTOMER_COLUMNS[1],
                "non_blank": int((out[EXTRA_CUSTOMER_COLUMNS[1]] != "").sum()),
                "distinct": int(out[EXTRA_CUSTOMER_COLUMNS[1]].nunique()),
            },
        }
    )
    return out, info


def _export_events(data: SynthData) -> pd.DataFrame:
    e = data.events
    out = e.copy()
    out["event_time"] = _str(_fmt_dates(e["event_time"].to_numpy(), "2024-03-05 14:22:05"))
    return out


def _write_xlsx(path: Path, frame: pd.DataFrame) -> None:
    """Excel via openpyxl, with fixed timestamps inside so the bytes are reproducible."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("工单")
    ws.append(list(frame.columns))
    columns = []
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            columns.append([None if pd.isna(v) else v for v in s.dt.to_pydatetime()])
        elif pd.api.types.is_integer_dtype(s):
            columns.append(s.astype(object).tolist())
        else:
            columns.append(s.astype(object).where(s.notna(), None).tolist())
    for row in zip(*columns, strict=True):
        ws.append(list(row))
    fixed = pd.Timestamp("2026-01-01").to_pydatetime()
    wb.properties.created = fixed
    buf = io.BytesIO()
    wb.save(buf)
    # openpyxl stamps "modified" and zip entry times with the current time: pin them
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            payload = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                payload = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>2026-01-01T00:00:00Z\g<2>",
                    payload,
                )
            info = zipfile.ZipInfo(item.filename, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, payload)


def _export_tickets(data: SynthData) -> pd.DataFrame:
    t = data.tickets
    cols = EXPORT_COLUMNS["tickets"]
    out = t.rename(columns=cols)
    out[cols["is_complaint"]] = _str(
        _take(["否", "是"], t["is_complaint"].to_numpy().astype(np.int8))
    )
    return out


def example_params(
    out_dir: str | Path,
    *,
    formats: str = "export",
    name: str = "example",
    as_of: str = "2025-09-30",
    launch_date: str = "2023-01-01",
    seed: int = 42,
) -> dict[str, Any]:
    """Params mapping (as in ``params/*.yaml``) for files written by :func:`write_example`.

    Parameters
    ----------
    out_dir : str or Path
        Folder the files were written to (absolute paths are used).
    formats : {"export", "canonical"}, default "export"
        Which layout was written.
    name, as_of, launch_date, seed
        Top-level params values.

    Returns
    -------
    dict
        Ready for :func:`workbench.core.params.params_from_dict`.
    """
    _check_formats(formats)
    out = Path(out_dir).resolve()
    files = EXPORT_FILES if formats == "export" else CANONICAL_FILES
    tables = {}
    for table, fname in files.items():
        mapping = (
            EXPORT_COLUMNS[table] if formats == "export" else {c: c for c in EXPORT_COLUMNS[table]}
        )
        if formats == "canonical" and table == "customers":
            mapping = {**mapping, "age": "age"}
        tables[table] = {"path": str(out / fname), "columns": dict(mapping)}
    return {
        "name": name,
        "title": "示例 CRM 数据 · synthetic example",
        "as_of": as_of,
        "launch_date": launch_date,
        "seed": seed,
        "tables": tables,
    }


def _check_formats(formats: str) -> None:
    if formats not in ("export", "canonical"):
        raise ValueError(f"formats must be one of 'export', 'canonical', got {formats!r}")


def write_example(
    out_dir: str | Path,
    *,
    n_customers: int,
    seed: int = 42,
    defects: bool = True,
    formats: str = "export",
    **kw: Any,
) -> dict[str, Any]:
    """Generate a customer base and write it to files with its ground truth.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write to (created if missing; files of the same names are replaced).
    n_customers : int
        Customers to simulate.
    seed : int, default 42
        Seed; the same seed writes identical CSV/Parquet/JSON content (gzip with ``mtime=0``).
    defects : bool, default True
        Plant data-quality defects in the export files (recorded in ``truth["defects"]``).
        Ignored for ``formats="canonical"``, which writes the clean tables.
    formats : {"export", "canonical"}, default "export"
        ``"export"``: files as Chinese exports look (``customers.csv.gz`` GBK with Chinese
        headers, ``orders.csv.gz`` UTF-8 with BOM, ``campaign_contacts.parquet``,
        ``events.csv.gz``, ``tickets.xlsx``) plus ``README.md``. ``"canonical"``: the five
        tables as Parquet with canonical column names (fast, for benchmarks).
    **kw
        Passed to :func:`generate` (``start``, ``end``, ``as_of``).

    Returns
    -------
    dict
        ``out_dir``, ``formats``, ``seed``, ``n_customers``, ``defects``, ``files`` (table ->
        path), ``rows`` (table -> rows written), ``truth`` and ``truth_customers`` paths.

    Raises
    ------
    ValueError
        Unknown ``formats`` or invalid :func:`generate` arguments.
    """
    _check_formats(formats)
    unknown = set(kw) - {"start", "end", "as_of"}
    if unknown:
        raise TypeError(
            f"unexpected keyword argument(s) {sorted(unknown)}; allowed: start, end, as_of"
        )
    data = generate(n_customers, seed=seed, **kw)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    g = data.truth["generator"]
    clock = _check_args(n_customers, seed, g["start"], g["end"], g["as_of"])
    rng = np.random.default_rng(
        np.random.SeedSequence(int(seed)).spawn(len(_STREAMS))[_STREAMS.index("export")]
    )
    truth = copy.deepcopy(data.truth)
    files: dict[str, str] = {}
    rows: dict[str, int] = {}
    if formats == "canonical":
        for table, fname in CANONICAL_FILES.items():
            frame = data.tables[table]
            frame.to_parquet(out / fname, index=False)
            files[table], rows[table] = str(out / fname), len(frame)
        truth["defects"] = {"planted": False, "note": "canonical Parquet files are clean"}
        truth["files"] = {
            t: {"path": f, "columns": {c: c for c in data.tables[t].columns}}
            for t, f in CANONICAL_FILES.items()
        }
    else:
        orders, o_info = _export_orders(data, rng, defects=defects, clock=clock)
        customers, c_info = _export_customers(data, rng, defects=defects)
        _write_gzip(out / EXPORT_FILES["customers"], _csv_bytes(customers, encoding="gbk"))
        _write_gzip(out / EXPORT_FILES["orders"], _csv_bytes(orders, encoding="utf-8", bom=True))
        data.campaign_contacts.to_parquet(out / EXPORT_FILES["campaign_contacts"], index=False)
        _write_gzip(
            out / EXPORT_FILES["events"], _csv_bytes(_export_events(data), encoding="utf-8")
        )
        _write_xlsx(out / EXPORT_FILES["tickets"], _export_tickets(data))
        rows = {
            "customers": len(customers), "orders": len(orders),
            "campaign_contacts": len(data.campaign_contacts), "events": len(data.events),
            "tickets": len(data.tickets),
        }  # fmt: skip
        files = {t: str(out / f) for t, f in EXPORT_FILES.items()}
        truth["defects"] = {
            "planted": bool(defects),
            "spec": DEFECT_SPEC,
            "orders": o_info,
            "customers": c_info,
        }
        truth["files"] = {
            t: {
                "path": f,
                "encoding": {"customers": "gbk", "orders": "utf-8-sig", "events": "utf-8"}.get(t),
                "columns": EXPORT_COLUMNS[t],
            }
            for t, f in EXPORT_FILES.items()
        }
        if defects:
            truth["files"]["customers"]["extra_columns"] = list(EXTRA_CUSTOMER_COLUMNS)
    truth = _jsonable(truth)
    (out / "ground_truth.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    data.truth_customers.to_parquet(out / "truth_customers.parquet", index=False)
    if formats == "export":
        (out / "README.md").write_text(_readme(truth, rows, defects=defects), encoding="utf-8")
    return {
        "out_dir": str(out),
        "formats": formats,
        "seed": int(seed),
        "n_customers": int(n_customers),
        "defects": bool(defects) and formats == "export",
        "files": files,
        "rows": rows,
        "truth": str(out / "ground_truth.json"),
        "truth_customers": str(out / "truth_customers.parquet"),
    }


def _readme(truth: dict[str, Any], rows: dict[str, int], *, defects: bool) -> str:
    g = truth["generator"]
    lines = [
        "# Synthetic CRM example (generated)",
        "",
        f"Made by `workbench.synth.simulate.write_example(out_dir, n_customers={g['n_customers']}, "
        f"seed={g['seed']})`: {g['n_customers']:,} customers who signed up between {g['start']} "
        f"and {g['as_of']}, activity up to {g['end']}. The same seed gives the same files. "
        "Nothing here is real: names, phones and e-mails are fake.",
        "",
        "Mapped onto the data contract by `params/example.yaml`.",
        "",
        "## Files",
        "",
        "| file | table | rows | format | headers -> canonical columns |",
        "|---|---|---:|---|---|",
    ]
    fmt = {
        "customers": "CSV, gzip, **GBK** (gb18030-compatible), Chinese headers",
        "orders": "CSV, gzip, UTF-8 **with BOM**, Chinese headers",
        "campaign_contacts": "Parquet, typed, canonical names",
        "events": "CSV, gzip, UTF-8, canonical names",
        "tickets": "Excel (.xlsx), Chinese headers",
    }
    for table, fname in EXPORT_FILES.items():
        mapping = ", ".join(
            f"{h} -> {c}" if h != c else c for c, h in EXPORT_COLUMNS[table].items()
        )
        lines.append(f"| `{fname}` | {table} | {rows[table]:,} | {fmt[table]} | {mapping} |")
    lines += [
        "| `ground_truth.json` | - | - | JSON | the truth (below) |",
        "| `truth_customers.parquet` | - | one per customer | Parquet | latent segment, rates, hazard, dropout, churn labels |",
        "",
        "Values: 性别 男/女; 获客渠道 organic, paid_search, paid_social, referral, offline; 会员等级 "
        "non_member/silver/gold; 渠道 app, web, mini_program, store; 订单状态 paid/refunded; 是否退款 and "
        "是否投诉 是/否; 品类 服装, 美妆, 食品, 数码, 家居; refund lines have a negative amount and "
        "quantity.",
        "",
    ]
    if defects:
        d = truth["defects"]
        o, c = d["orders"], d["customers"]
        lines += [
            "## Planted data-quality defects",
            "",
            "Counts and the affected keys are in `ground_truth.json` under `defects`.",
            "",
            f"- orders: {o['exact_duplicate_rows']['count']} exact duplicate rows; "
            f"{o['orphan_customer_rows']['count']} rows whose 会员ID (C9xxxxxx) is not a customer; "
            f"{o['money_strings']['count']} amounts written like `￥1,234.50`; "
            f"{o['unparseable_amounts']['count']} amounts that are not numbers "
            f"({', '.join(o['unparseable_amounts']['values'])}); "
            f"{o['negative_not_refund']['count']} negative amounts with status `paid` and 是否退款 否; "
            f"{o['future_dates']['count']} orders dated after {g['end']}; "
            f"{o['prelaunch_dates']['count']} orders dated 1970/1900; "
            f"{o['extreme_spenders']['count']} customers with one absurd order "
            f"({', '.join(f'{a:,.0f}' for a in o['extreme_spenders']['amounts'])}); "
            "下单时间 in mixed date styles ("
            + ", ".join(f"`{s}` {n}" for s, n in o["date_styles"].items())
            + ").",
            f"- customers: {c['duplicate_keys']['count']} 会员ID appear twice with a different 城市; "
            f"placeholders ({', '.join(repr(p) for p in truth['defects']['spec']['placeholders'])}) in "
            f"性别 ({c['placeholders']['gender']['count']}) and 城市 ({c['placeholders']['city']['count']}); "
            "注册日期 in mixed styles; a constant column 国家 and a free-text column 备注.",
            "",
        ]
    lines += [
        "## Ground truth (`ground_truth.json`)",
        "",
        "| key | what |",
        "|---|---|",
        "| `generator` | seed, size, start / end / as_of |",
        "| `segments` | the four latent segments: documented share, order rate per month, mean order "
        "value, discount, complaint rate, base hazard; realised counts and spend |",
        "| `heterogeneity` | gamma shapes of the customer multipliers, lognormal sigma of amounts |",
        "| `customers` | covariate shares (acquisition channel, member level, gender, age, city), sign-up growth |",
        "| `seasonality` | month factors, special days (双11, 618, 双12), Chinese New Year dip, realised purchases per month |",
        "| `orders`, `refunds` | line counts, categories (price factor, margin rate), refund rate |",
        "| `churn` | hazard model, `hazard_ratios` and `reference_levels`, bad-complaint factor, "
        "churn reasons, and the realised churn rate (no purchase in the 90 days after as_of) by segment |",
        "| `channels` | segment channel mixes; each customer's preferred channel is in truth_customers |",
        "| `campaigns` | per campaign: design, planned split, p0 and tau by arm and segment, realised "
        "counts, differences and standard errors (observational vip_call: selection model and realised ATT) |",
        "| `funnel` | step conversion by channel (set and realised), sessions and events |",
        "| `tickets` | ticket counts, complaint and CSAT model |",
        "| `defects` | what was planted where (see above) |",
        "| `files` | file paths, encodings and header mapping |",
        "",
    ]
    return "\n".join(lines)
