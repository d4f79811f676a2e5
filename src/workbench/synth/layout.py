"""The export layout: file names, headers (canonical name -> header), planted defects.

What :func:`workbench.synth.export.write_example` writes and the README documents.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EXPORT_FILES", "EXPORT_COLUMNS", "OPTIONAL_TABLES", "EXTRA_CUSTOMER_COLUMNS", "CANONICAL_FILES", "DEFECT_SPEC"]

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
    "spend": "spend.csv",
    "order_items": "order_items.csv.gz",
    "feedback": "feedback.csv.gz",
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
        "channel": "渠道", "category": "类型", "is_complaint": "是否投诉", "text": "问题描述",
    },
    "spend": {
        "date": "日期", "channel": "渠道", "campaign_id": "活动ID", "cost": "花费",
        "impressions": "曝光量", "clicks": "点击量",
    },
    "order_items": {
        "order_id": "订单号", "product_id": "商品编码", "product_name": "商品名称",
        "category": "品类", "quantity": "数量", "price": "金额",
    },
    "feedback": {
        "feedback_id": "评价ID", "customer_id": "会员ID", "feedback_time": "评价时间",
        "channel": "来源", "text": "评价内容", "rating": "评分", "nps": "推荐意愿",
    },
}  # fmt: skip

#: Tables an extension of the generator adds (written only when it produced them).
OPTIONAL_TABLES: tuple[str, ...] = ("spend", "order_items", "feedback")


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
