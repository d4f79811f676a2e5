"""The design matrix of the propensity models: learned on the training rows, applied to any frame.

Numeric features are median-filled (with a 0/1 missing-indicator column when the training rows
had blanks) and standardized with the training mean and standard deviation (0/1 features kept
as they are); categorical features become dummies of every level but the most frequent one
(the reference). Levels not seen in training are scored as the reference, with a warning.

:class:`Features` is the smallest feature list the scorer needs (label, key, numeric, boolean
and categorical columns); an analysis may pass its own richer spec with the same attributes
(churn's ``FeatureSpec``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError, DataQualityWarning, format_examples
from workbench.modeling.propensity.common import cat_col, numeric_col
from workbench.report.fmt import count
from workbench.report.i18n import t

__all__ = ["Design", "Features", "SpecLike", "Wording"]


class SpecLike(Protocol):
    """What the scorer reads of a feature spec."""

    label: str
    id_column: str
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    boolean: tuple[str, ...]

    @property
    def features(self) -> list[str]: ...


@dataclass(frozen=True)
class Features:
    """The feature columns of a propensity frame (see :class:`SpecLike`).

    Attributes
    ----------
    label, id_column : str
        0/1 outcome column and customer key.
    numeric, categorical, boolean : tuple of str
        Numeric (including 0/1), categorical and the 0/1 subset of the numeric columns.
    """

    label: str
    id_column: str
    numeric: tuple[str, ...]
    categorical: tuple[str, ...] = ()
    boolean: tuple[str, ...] = ()

    @property
    def features(self) -> list[str]:
        """All feature columns, numeric first."""
        return [*self.numeric, *self.categorical]


@dataclass(frozen=True)
class Wording:
    """How the scorer's messages name the analysis's frames, classes and options.

    Attributes
    ----------
    noun : str
        Frame prefix (``churn`` -> "churn training frame").
    label_kind : str
        What the label is (``0/1 churn label``).
    positive, negative : str
        The two classes in words (``churners``, ``non-churners``).
    label_option, window_option, options : str
        The option naming the label, the window hint and the prefix of the model options
        (``label.flag_column=``, ``a longer label.inactivity_days= window``, ``model.``).
    unseen_key : str
        Catalog key of the unseen-level warning (fields table, column, n, total, examples,
        reference).
    """

    noun: str = "propensity"
    label_kind: str = "0/1 label"
    positive: str = "positives"
    negative: str = "negatives"
    label_option: str = "label="
    window_option: str = "a longer window"
    options: str = "model."
    unseen_key: str = "cross_sell.propensity.warn.unseen"

    def opt(self, name: str) -> str:
        """A model option as the analyst writes it (``model.exclude=``)."""
        return f"{self.options}{name}="


@dataclass(frozen=True, eq=False)
class Design:
    """Encoding of the features of ``spec`` learned on training rows (see module docstring).

    Attributes
    ----------
    spec : SpecLike
    medians, means, sds : dict
        Numeric feature -> training median (fill value), mean and standard deviation.
    indicators : tuple of str
        Numeric features with a missing-indicator column.
    levels, reference : dict
        Categorical feature -> non-reference levels (most frequent first), reference level.
    columns : tuple of str
        Design column names (``tenure``, ``total_charges (missing)``, ``plan=Two year``).
    groups : tuple of str
        The feature of each design column.
    wording : Wording
        Names used in messages.
    """

    spec: SpecLike
    medians: dict[str, float]
    indicators: tuple[str, ...]  # numeric columns with a missing-indicator
    means: dict[str, float]
    sds: dict[str, float]
    levels: dict[str, tuple[str, ...]]  # categorical -> non-reference levels
    reference: dict[str, str]  # categorical -> reference (most frequent) level
    columns: tuple[str, ...]
    groups: tuple[str, ...]  # design column -> original feature
    wording: Wording = field(default_factory=Wording)

    def _num(self, frame: pd.DataFrame, c: str, what: str = "frame") -> np.ndarray:
        w = self.wording
        return numeric_col(frame, c, what=what, noun=w.noun, exclude_option=w.opt("exclude"))

    @classmethod
    def learn(cls, frame: pd.DataFrame, spec: SpecLike, wording: Wording | None = None) -> Design:
        """Learn fill values, scales and levels from the training ``frame`` (not modified)."""
        w = wording or Wording()
        medians, means, sds = {}, {}, {}
        indicators = []
        cols: list[str] = []
        groups: list[str] = []
        for c in spec.numeric:
            v = numeric_col(frame, c, noun=w.noun, exclude_option=w.opt("exclude"))
            med = float(np.nanmedian(v)) if np.isfinite(v).any() else 0.0
            medians[c] = med
            filled = np.where(np.isnan(v), med, v)
            if c in spec.boolean:  # 0/1 kept as is: odds ratio yes vs no
                means[c], sds[c] = 0.0, 1.0
            else:
                means[c] = float(filled.mean())
                sd = float(filled.std())
                sds[c] = sd if sd > 0 else 1.0
            cols.append(c)
            groups.append(c)
            if np.isnan(v).any():
                indicators.append(c)
                cols.append(f"{c} (missing)")
                groups.append(c)
        levels, reference = {}, {}
        for c in spec.categorical:
            s = cat_col(frame, c)
            vc = s.value_counts()
            ref = str(vc.index[0])
            reference[c] = ref
            lv = tuple(str(x) for x in vc.index[1:])
            levels[c] = lv
            for lvl in lv:
                cols.append(f"{c}={lvl}")
                groups.append(c)
        return cls(spec, medians, tuple(indicators), means, sds, levels, reference, tuple(cols), tuple(groups), w)

    def transform(self, frame: pd.DataFrame, *, what: str = "frame", warn_unseen: bool = True) -> np.ndarray:
        """Design matrix: standardized numeric columns, 0/1 missing-indicators and dummies."""
        w = self.wording
        need = [c for c in self.spec.features if c not in frame.columns]
        if need:
            raise AnalysisError(
                f"{w.noun} {what} ({len(frame):,} rows) lacks feature column(s) {', '.join(need)} the "
                f"models were trained on; build it like the training frame or add them to {w.opt('exclude')}"
            )
        n = len(frame)
        X = np.zeros((n, len(self.columns)), dtype="float64")
        j = 0
        for c in self.spec.numeric:
            v = self._num(frame, c, what)
            isna = np.isnan(v)
            X[:, j] = (np.where(isna, self.medians[c], v) - self.means[c]) / self.sds[c]
            j += 1
            if c in self.indicators:
                X[:, j] = isna
                j += 1
        for c in self.spec.categorical:
            s = cat_col(frame, c)
            lv = self.levels[c]
            codes = pd.Index(list(lv)).get_indexer(s)
            known = set(lv) | {self.reference[c]}
            unseen = ~s.isin(known)
            if warn_unseen and unseen.any():
                warnings.warn(
                    t(w.unseen_key, table=f"{w.noun} {what}", column=c, n=count(unseen.sum()),
                      total=count(n), examples=format_examples(s[unseen].head(20)),
                      reference=repr(self.reference[c])),
                    DataQualityWarning,
                    stacklevel=3,
                )
            ok = codes >= 0
            X[np.flatnonzero(ok), j + codes[ok]] = 1.0
            j += len(lv)
        return X
