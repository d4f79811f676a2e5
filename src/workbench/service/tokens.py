"""Text preparation: cleaning, language, Chinese word segmentation (``jieba``) and English words.

One pass over the texts serves keywords, topics and sentiment: :func:`prepare_texts` returns the
cleaned text, its language (``zh``, ``en``, ``mixed`` or ``empty``) and its tokens.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import pandas as pd

__all__ = ["STOPWORDS", "OPINION_WORDS", "SERVICE_WORDS", "prepare_texts", "tokenize", "topic_tokens", "char_bigrams",
           "language_of"]

_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z']+")
_SPACE = re.compile(r"\s+")
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\ufe0f]")
_KEEP = re.compile(r"[\u4e00-\u9fffA-Za-z0-9']+")
#: Masked personal data (``138****1234``, ``张*``, ``a***@x.com``), e-mails, links and long
#: numbers never become words.
_MASKED = re.compile(r"[^\s，。,]*\*[^\s，。,]*|[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+|https?://\S+|\d{5,}")

#: Words that carry no topic: Chinese function words and English stop words (a short list; the
#: TF-IDF weights do the rest).
STOPWORDS: frozenset[str] = frozenset(
    "的 了 是 我 你 他 她 它 们 我们 你们 在 和 与 就 都 也 还 又 很 太 非常 有 没有 没 不 吗 呢 吧 啊 呀 么 "
    "这 那 这个 那个 一个 个 一下 已经 什么 怎么 为什么 可以 能 会 要 想 说 让 给 被 把 对 从 到 上 下 "
    "里 后 前 时候 现在 今天 昨天 请 谢谢 您好 你好 亲 客服 麻烦 一直 还是 但是 而且 因为 所以 如果 "
    "请问 回电 邮箱 电话 联系 pls email call "
    "a an the and or but if of to in on at for with by from is are was were be been it this that "
    "i me my we our you your he she they them his her its not no do does did have has had so very "
    "just can could would will please thanks thank hi hello am as about what when why how".split()
)


#: Words of customer service that jieba's dictionary splits (added to it once).
SERVICE_WORDS: tuple[str, ...] = ("到账", "配送员", "验证码", "优惠券", "闪退", "退款", "退货", "客服", "差评", "好评",
                                  "发票", "积分", "换货", "物流", "包裹", "账号")  # fmt: skip
#: Words of judgement rather than subject: kept for sentiment, left out of topics.
OPINION_WORDS: frozenset[str] = frozenset(
    "满意 失望 非常 不错 很快 下次 再也 点赞 差劲 及时 顺利 太差 很好 好用 方便 划算 实惠 精致 一般般 还行 "
    "麻烦 太烦 骗人 好久 迟迟 一直 莫名 喜欢 讨厌 糟糕 垃圾 很差 不好 太慢 速度快 处理速度 "
    "great good bad awful terrible horrible excellent love happy poor annoying nice disappointed really".split()
)


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    for w in SERVICE_WORDS:
        jieba.add_word(w, freq=20000)
    return jieba


def topic_tokens(tokens: list[str]) -> list[str]:
    """Tokens that name a subject: two characters or more, no opinion word (:data:`OPINION_WORDS`)."""
    return [w for w in tokens if len(w) >= 2 and w not in OPINION_WORDS]


def language_of(text: str) -> str:
    """``zh`` (mostly Chinese characters), ``en`` (Latin words only), ``mixed`` or ``empty``.

    Examples
    --------
    >>> language_of("物流太慢了"), language_of("great service"), language_of("APP 闪退"), language_of(" ")
    ('zh', 'en', 'mixed', 'empty')
    """
    n_cjk = len(_CJK.findall(text))
    n_latin = sum(len(w) for w in _LATIN_WORD.findall(_MASKED.sub(" ", text)))
    if n_cjk == 0 and n_latin == 0:
        return "empty"
    if n_cjk == 0:
        return "en"
    if n_latin <= 2 * n_cjk * 0.25:
        return "zh"
    return "mixed"


def tokenize(text: str) -> list[str]:
    """Words of one text: ``jieba`` for Chinese runs, lower-cased words for Latin runs; stop words,
    single characters, numbers and masked personal data dropped.

    Examples
    --------
    >>> tokenize("快递太慢了，包装也破了 refund please")
    ['快递', '太慢', '包装', '破', 'refund']
    """
    text = _MASKED.sub(" ", text)
    out: list[str] = []
    for run in _KEEP.findall(text):
        if _CJK.search(run):
            words = _jieba().lcut(run, HMM=False)
        else:
            words = [run.lower()]
        for w in words:
            w = w.strip().lower()
            if not w or w in STOPWORDS or w.isdigit() or (len(w) < 2 and not _CJK.match(w)):
                continue
            if len(w) == 1 and w in "的了是我你他她它在和就都也还又很有不吗呢吧啊呀么这那个":
                continue
            out.append(w)
    return out


def char_bigrams(text: str) -> list[str]:
    """Adjacent Chinese character pairs (``"太慢了" -> ["太慢", "慢了"]``): robust to segmentation."""
    cjk = "".join(_CJK.findall(text))
    return [cjk[i : i + 2] for i in range(len(cjk) - 1)]


def prepare_texts(texts: pd.Series, *, max_chars: int = 2000) -> pd.DataFrame:
    """Clean, classify and tokenize free texts.

    Parameters
    ----------
    texts : pandas.Series
        Free texts (missing allowed).
    max_chars : int, default 2000
        Longer texts are cut to this many characters (``truncated`` says which).

    Returns
    -------
    pandas.DataFrame
        One row per text, same index: ``clean`` (whitespace collapsed, cut), ``language``
        (``zh``/``en``/``mixed``/``empty``), ``tokens`` (list of str), ``n_chars`` (before the cut),
        ``truncated``, ``has_emoji``.
    """
    raw = texts.astype("string").fillna("")
    distinct = pd.Series(raw.unique())
    clean = distinct.map(lambda s: _SPACE.sub(" ", str(s)).strip())
    cut = clean.str.slice(0, max_chars)
    info = pd.DataFrame(
        {
            "clean": cut,
            "language": cut.map(language_of),
            "tokens": cut.map(tokenize),
            "n_chars": clean.str.len().astype("int64"),
            "has_emoji": clean.map(lambda s: bool(_EMOJI.search(s))),
        }
    )
    info["truncated"] = info["n_chars"] > max_chars
    info.index = distinct.to_numpy()
    out = info.reindex(raw.to_numpy())
    out.index = texts.index
    out["n_chars"] = out["n_chars"].astype("int64")
    out["truncated"] = out["truncated"].astype(bool)
    out["has_emoji"] = out["has_emoji"].astype(bool)
    return out
