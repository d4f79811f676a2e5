"""The model's parameters: the documented truth of the generator.

Every constant here is copied into ``SynthData.truth`` (see :mod:`workbench.synth.simulate` for
the model in words). Changing one changes the bundled example.
"""

from __future__ import annotations

from typing import Any

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
