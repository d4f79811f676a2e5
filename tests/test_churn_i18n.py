"""The churn report in Chinese and English: every key the churn code uses is in both catalogs,
zh findings are Chinese, metrics do not depend on the language, the key findings carry the known
answers (IBM Telco, the synthetic generator's truth), and the notebook is bilingual and summary-first."""

from __future__ import annotations

import json
import re
import string
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from workbench import churn as C
from workbench.churn import ChurnLabel
from workbench.churn import model as cm
from workbench.report import KeyFinding, fmt, i18n
from workbench.synth.simulate import generate

ROOT = Path(__file__).resolve().parents[1]
HAN = re.compile(r"[\u4e00-\u9fff]")
#: Four or more Latin words in a row: an English sentence (column names have underscores).
ENGLISH_RUN = re.compile(r"\b[A-Za-z]{2,}(?:[ ,]+[A-Za-z]{2,}){3,}\b")


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _english_runs(text: str) -> list[str]:
    """English sentences in ``text``, leaving out code, params keys and technical terms."""
    body = re.sub(r"`[^`]*`|[A-Za-z_]+\.[A-Za-z_.]+|\w*_\w*|[A-Za-z]+=", " ", text)
    body = re.sub(r"\b(Cramér's V|ROC AUC|PR AUC|log-rank|Kaplan-Meier|Holm|Wilson|Cox|CI|P\(alive\)|CLV)\b", " ", body)
    return ENGLISH_RUN.findall(body)


# ---------------------------------------------------------------------------------------------
# catalog
# ---------------------------------------------------------------------------------------------


def _literal_keys() -> set[str]:
    keys = set()
    for path in (ROOT / "src/workbench/churn").rglob("*.py"):
        keys |= set(re.findall(r"\"(churn\.[a-z0-9_]+(?:\.[a-z0-9_]+)+)\"", path.read_text(encoding="utf-8")))
    return keys


def test_every_churn_key_is_in_both_catalogs_with_the_same_fields():
    en, zh = i18n.catalog("en"), i18n.catalog("zh")
    used = _literal_keys()
    assert len(used) > 150  # the scan finds the keys (a broken regex would pass trivially)
    for key in used:
        assert key in en and key in zh, key
    churn_keys = [k for k in en if k.startswith(("churn.", "categories.churn_"))]
    assert set(churn_keys) == {k for k in zh if k.startswith(("churn.", "categories.churn_"))}
    wrong = [k for k in churn_keys if _fields(en[k]) != _fields(zh[k])]
    assert not wrong
    assert not [c for c in i18n.CONFLICTS if "churn" in c]


def test_every_figure_of_the_notebook_has_a_caption_in_both_languages():
    nb = json.loads((ROOT / "notebooks/03_churn.ipynb").read_text(encoding="utf-8"))
    code = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    names = set(re.findall(r"ctx\.show\([^\n]*?\"([a-z_]+)\"\)", code))
    assert len(names) == 12
    for lang in i18n.LANGUAGES:
        assert {f"figures.{n}" for n in names} <= set(i18n.catalog(lang)), lang


# ---------------------------------------------------------------------------------------------
# the synthetic base: findings in both languages
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synth():
    return generate(3000, seed=42)


def _descriptive(data, lang: str) -> dict:
    """Every descriptive churn result of the synthetic base, built in ``lang``."""
    with fmt.use(language=lang), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = C.churn_frame(data.customers, data.orders, as_of="2025-09-30", label=ChurnLabel(), tickets=data.tickets)
        cols = ["acquisition_channel", "member_level", "gender", "age_at_signup"]
        out = {
            "frame": frame,
            "rates": C.churn_rates(frame, by=["acquisition_channel", "member_level", "absent"]),
            "cohorts": C.cohort_retention(frame, data.orders),
            "km": C.kaplan_meier(frame.table, group="acquisition_channel"),
            "hazard": C.hazard_by_tenure(frame.table),
            "drivers": C.churn_drivers(frame, columns=cols),
            "cox": C.cox_model(frame.table, covariates=cols, reference={"acquisition_channel": "organic",
                               "member_level": "non_member"}, scale={"age_at_signup": 10}),  # fmt: skip
            "reasons": C.unhappy_vs_drift(frame, tickets=data.tickets, orders=data.orders),
        }
        out["recs"] = C.recommendations(drivers=out["drivers"], hazard=out["hazard"], cox=out["cox"],
                                        reasons=out["reasons"])  # fmt: skip
        out["texts"] = {k: v.finding() for k, v in out.items() if hasattr(v, "finding")}
        out["key"] = C.key_findings(frame=frame, rates=out["rates"], km=out["km"], hazard=out["hazard"],
                                    cox=out["cox"], drivers=out["drivers"])  # fmt: skip
    return out


@pytest.fixture(scope="module")
def zh(synth):
    return _descriptive(synth, "zh")


@pytest.fixture(scope="module")
def en(synth):
    return _descriptive(synth, "en")


def test_zh_findings_are_chinese_without_english_sentences(zh):
    for name, text in zh["texts"].items():
        assert HAN.search(text), name
        assert not _english_runs(text), (name, _english_runs(text))
    for k in filter(None, zh["key"]):
        for text in (k.text, k.action):
            assert HAN.search(text) and not _english_runs(text), text


def test_en_findings_read_english(en):
    for name, text in en["texts"].items():
        assert text[:1].isupper() or text[:1].isdigit(), (name, text[:40])
        assert not HAN.search(text.replace("男", "").replace("女", "")), name
    assert "Churn here means: no purchase in the 90 days after 30 Sep 2025 (1 Oct 2025 to 29 Dec 2025)" in en["texts"]["frame"]


def test_dates_read_in_the_language_and_metrics_stay_neutral(en, zh):
    assert "2025年9月30日" in zh["texts"]["frame"] and "2025年10月1日" in zh["texts"]["frame"]
    for name in ("frame", "rates", "cohorts", "drivers", "cox", "reasons", "km", "hazard", "recs"):
        assert json.dumps(zh[name].metrics(), sort_keys=True, default=str) == \
            json.dumps(en[name].metrics(), sort_keys=True, default=str), name
    m = zh["frame"].metrics()
    assert m["definition"].startswith("no purchase in the 90 days after 2025-09-30 (2025-10-01 to 2025-12-29)")
    assert any(n.startswith("Survival time: months from sign-up") for n in m["notes"])
    assert zh["rates"].metrics()["skipped"] == ["absent: not in the data, skipped."]


def test_key_findings_carry_the_planted_truth(synth, en, zh):
    tr = synth.truth["churn"]
    for res in (en, zh):
        kf = [k for k in res["key"] if k is not None]
        assert 3 <= len(kf) <= 6 and all(isinstance(k, KeyFinding) and k.action for k in kf)
        assert kf[0].text.count(fmt.pct(tr["churn_rate_overall"])) == 1  # the generator's churn rate
    rate, group, lifetime, lever = en["key"][:4]
    assert rate.text.startswith(f"{fmt.pct(tr['churn_rate_overall'])} of customers churned") and "30 Sep 2025" in rate.text
    # the generator makes paid_social churn most (hazard ratio 1.6) and non-members more than members (1 / 0.6)
    assert group.text.startswith("By acquisition_channel, paid_social loses most")
    assert "paid_social" in zh["key"][1].text and "流失最多" in zh["key"][1].text
    # the strongest controllable hazard ratio is a planted one, on the planted side of 1
    cox = en["cox"].table.set_index("term")
    if "paid_social" in lever.text:
        assert cox.loc["acquisition_channel=paid_social", "hr_lower"] > 1 and "more)" in lever.text
    else:
        assert "member_level" in lever.text and "less)" in lever.text
    assert "gender" not in lever.text and "age" not in lever.text  # not controllable
    peak = en["hazard"].peak
    assert f"tenure {peak['start']:g}-{peak['end']:g} months" in lifetime.action
    assert "Half of" in lifetime.text or "Fewer than half" in lifetime.text


def test_zh_labels_of_tables_and_charts(zh):
    with fmt.use(language="zh"):
        s = zh["reasons"].summary()
        assert set(s["reason"]) == {"因不满离开", "自然流失"}
        assert zh["rates"].summary()["column"].iloc[0] == "全部"
        assert zh["rates"].to_frame()["column"].iloc[0] == "all"  # codes stay in the full table
        ax = zh["km"].plot()
        assert HAN.search(ax.get_title()) and HAN.search(ax.get_ylabel())
        assert [t.get_text() for t in ax.get_legend().get_texts()]  # groups are the data's own levels
        plt.close("all")
        ax = zh["hazard"].plot()
        assert "在网时长（个月）" == ax.get_xlabel()
        plt.close("all")
        assert i18n.label("p_churn") == "流失概率" and i18n.category("churn_model", "hgb") == "梯度提升"


# ---------------------------------------------------------------------------------------------
# IBM Telco: model, retention and the six findings
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def telco_findings():
    from workbench.core.io import load_tables
    from workbench.run.params import load_params

    p = load_params(str(ROOT / "params/telco.yaml"))
    cust = load_tables(p)["customers"].frame
    label = ChurnLabel(**p.analyses.churn.label.model_dump())
    out = {}
    for lang in ("en", "zh"):
        with fmt.use(language=lang, currency="$"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = C.churn_frame(cust, as_of=p.as_of, label=label)
            rates = C.churn_rates(frame, by=["plan", "InternetService"])
            km = C.kaplan_meier(frame.table)
            hazard = C.hazard_by_tenure(frame.table)
            drivers = C.churn_drivers(frame)
            cox = C.cox_model(frame.table, covariates=["plan", "InternetService", "PaymentMethod"])
            spec = cm.prepare_features(frame.table)
            models = cm.fit_churn_models(frame.table, spec=spec, random_state=0)
            ev = cm.evaluate_churn_models(models, bootstrap=50, importance_sample=500, importance_repeats=2,
                                          random_state=0)  # fmt: skip
            cand = C.current_customers(frame)
            scores = cm.churn_reasons(models, cand, n=2)
            rl = cm.retention_list(scores, value=cm.value_at_risk(cand, formula="monthly_charges * 12"),
                                   save_rate=0.2, contact_cost=5.0, salt="s")  # fmt: skip
            out[lang] = {"key": C.key_findings(frame=frame, rates=rates, km=km, hazard=hazard, cox=cox,
                                               drivers=drivers, evaluation=ev, retention=rl),
                         "ev": ev, "rl": rl, "scores": scores, "texts": [ev.finding(), rl.finding(),
                                                                          models.finding(), spec.finding()]}  # fmt: skip
    return out


def test_telco_six_key_findings_with_known_figures(telco_findings):
    en = telco_findings["en"]["key"]
    assert all(k is not None for k in en) and len(en) == 6
    assert en[0].text.startswith("26.5 % of customers churned (1,869 of 7,043; 95% CI 25.5 % to 27.6 %)")
    assert en[1].text.startswith("By plan, Month-to-month loses most: 42.7 % churn")
    ev, rl = telco_findings["en"]["ev"], telco_findings["en"]["rl"]
    auc = ev.table.set_index("model").loc[ev.best, "roc_auc"]
    assert auc >= 0.83 and f"ROC AUC {auc:.3f}" in en[4].text
    f = rl.figures()
    assert f"{f['on_list']:,} customers" in en[5].text and fmt.money(f["value_at_risk_list"], currency="$") in en[5].text


def test_telco_zh_model_texts_and_reasons_are_chinese(telco_findings):
    zh = telco_findings["zh"]
    for k in zh["key"]:
        assert HAN.search(k.text) and HAN.search(k.action) and not _english_runs(k.text), k.text
    for text in zh["texts"]:
        assert HAN.search(text) and not _english_runs(text), text
    reasons = zh["scores"]["reason_1"].dropna()
    assert len(reasons) and reasons.map(lambda r: bool(HAN.search(r)) or "：" in r).all()
    with fmt.use(language="zh"):
        assert zh["rl"].summary()["item"].iloc[0] == "已评分客户数"
    assert zh["rl"].metrics() == telco_findings["en"]["rl"].metrics()  # the same figures under the same keys


# ---------------------------------------------------------------------------------------------
# the notebook
# ---------------------------------------------------------------------------------------------


def test_notebook_is_bilingual_and_summary_last():
    nb = json.loads((ROOT / "notebooks/03_churn.ipynb").read_text(encoding="utf-8"))
    cells = nb["cells"]
    md = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown"]
    assert len(md) == 18
    for i in md[::2]:
        assert cells[i]["metadata"]["tags"] == ["lang-en"] and cells[i + 1]["metadata"]["tags"] == ["lang-zh"]
        zh_text = "".join(cells[i + 1]["source"])
        assert HAN.search(zh_text) and not _english_runs(zh_text), zh_text[:80]
        assert "".join(cells[i]["source"]).split("\n")[0].count("#") == zh_text.split("\n")[0].count("#")
    assert "".join(cells[1]["source"]).startswith("# 客户流失分析")
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code[-1]["metadata"]["tags"] == ["summary"]
    assert "".join(code[-1]["source"]).startswith("ctx.summarize(churn.key_findings(")
    sources = "".join("".join(c["source"]) for c in code)
    assert 'Markdown(f"' not in sources and 'Markdown("' not in sources  # English built in code cells
