"""Hand-made order rows with one planted defect of each kind (shared by the profiling and
cleaning tests; the expected counts are written next to each row)."""

# order rows: (订单号, 会员ID, 下单时间, 实付金额, 状态, 是否退款, 渠道)
ORDER_ROWS = [
    ("O01", "C01", "2024-01-05", "100", "paid", "否", "app"),
    ("O02", "C01", "2024-02-05", "120", "paid", "否", "web"),
    ("O02", "C01", "2024-02-05", "120", "paid", "否", "web"),  # exact duplicate 1
    ("O03", "C02", "2024-01-10", "80", "paid", "否", "app"),
    ("O04", "C03", "2024-03-01", "-30", "refunded", "是", "web"),  # refund line
    ("O05", "C03", "2024-03-02", "50", "paid", "否", "app"),
    ("O05", "C04", "2024-03-03", "60", "paid", "否", "web"),  # duplicated key O05
    ("O06", "C04", "2024-03-04", "-20", "paid", "否", "app"),  # negative, not a refund
    ("O07", "C99", "2024-03-05", "70", "paid", "否", "web"),  # orphan
    ("O08", "C99", "2024-03-06", "75", "paid", "否", "app"),  # orphan
    ("O09", "C05", "2024-04-01", "90", "paid", "否", "web"),
    ("O09", "C05", "2024-04-01", "90", "paid", "否", "web"),  # exact duplicate 2
    ("O10", "C06", "2030-01-01", "110", "paid", "否", "app"),  # future
    ("O11", "C07", "1970-01-01", "95", "paid", "否", "web"),  # before launch
    ("O12", "C08", "2024-05-01", "1000000", "paid", "否", "app"),  # extreme spender
    ("O13", "C02", "2024-05-02", "", "paid", "否", "app"),  # required amount missing
]
ORDER_MAP = {
    "order_id": "订单号", "customer_id": "会员ID", "order_time": "下单时间", "amount": "实付金额",
    "status": "状态", "is_refund": "是否退款", "channel": "渠道",
}  # fmt: skip
