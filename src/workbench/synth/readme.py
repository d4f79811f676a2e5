"""The ``README.md`` written next to an example export: files, values, planted defects, truth keys."""

from __future__ import annotations

from typing import Any

from workbench.synth.layout import EXPORT_COLUMNS, EXPORT_FILES


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
        "spend": "CSV, UTF-8, Chinese headers",
        "order_items": "CSV, gzip, UTF-8, Chinese headers",
        "feedback": "CSV, gzip, UTF-8, Chinese headers",
    }
    for table, fname in EXPORT_FILES.items():
        if table not in rows:
            continue
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
