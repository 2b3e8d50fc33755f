"""Supervised direction finders: :func:`from_labels` (labelled codes) and :func:`conditional`."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch

from .._checks import shape_str
from .._optional import require
from ..errors import InvalidValueError, ShapeError
from ._common import (
    SpaceLike,
    base_provenance,
    codes_matrix,
    resolve_space,
)
from .model import Direction, DirectionSet

__all__ = ["Method", "conditional", "from_labels"]

Method = Literal["mean_diff", "svm", "logistic", "ridge"]


def _labels_vector(y: Any, n: int) -> np.ndarray:
    arr = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    arr = arr.astype(np.float64).reshape(-1) if arr.size == n else arr
    if arr.shape != (n,):
        raise ShapeError(
            "labels must give one number per code",
            expected=f"({n},)",
            got=shape_str(tuple(np.shape(arr))),
            fix="pass one label per row of codes",
        )
    if not np.isfinite(arr).all():
        raise InvalidValueError(
            "labels contain NaN or inf",
            expected="finite labels",
            got=f"{int((~np.isfinite(arr)).sum())} non-finite values",
            fix="drop the rows whose label is missing (codes[mask], y[mask])",
        )
    return arr


def _binarize(y: np.ndarray, quantile: float) -> tuple[np.ndarray, np.ndarray, str]:
    """``(mask of used rows, 0/1 labels of those rows, kind)``; continuous labels keep their extreme quantiles."""
    values = np.unique(y)
    if len(values) < 2:
        raise InvalidValueError(
            "labels have a single value; a direction needs two groups",
            expected="at least two distinct labels",
            got=f"all labels = {values[:1].tolist()}",
            fix="check the label column or the threshold (e.g. weight > 600)",
        )
    if len(values) == 2:
        return np.ones_like(y, dtype=bool), (y == values[1]).astype(np.int64), "binary"
    if not 0 < quantile <= 0.5:
        raise InvalidValueError(
            "quantile must be in (0, 0.5]",
            expected="e.g. 0.3 (top and bottom 30%)",
            got=quantile,
            fix="pass quantile=0.3",
        )
    lo, hi = np.quantile(y, [quantile, 1 - quantile])
    mask = (y <= lo) | (y >= hi)
    if lo == hi:
        mask = np.ones_like(y, dtype=bool)
    return mask, (y[mask] > np.median(y)).astype(np.int64), f"continuous (top/bottom {quantile:.0%})"


def _split(n: int, y: np.ndarray, test_size: float, seed: int, stratify: bool) -> tuple[np.ndarray, np.ndarray]:
    idx = np.arange(n)
    if test_size <= 0 or n < 10:
        return idx, idx[:0]
    model_selection = require("sklearn.model_selection", purpose="from_labels")
    strat = y if stratify and np.bincount(y.astype(np.int64)).min() >= 2 else None
    tr, te = model_selection.train_test_split(idx, test_size=test_size, random_state=seed, stratify=strat)
    return np.sort(tr), np.sort(te)


def _fit_vector(method: str, x: np.ndarray, y: np.ndarray, c: float, alpha: float, seed: int) -> np.ndarray:
    """Unnormalised direction from training rows (pointing to label 1 / higher labels)."""
    if method == "mean_diff":
        return np.asarray(x[y == 1].mean(0) - x[y == 0].mean(0))
    if method == "svm":
        svm = require("sklearn.svm", purpose="from_labels(method='svm')")
        model = svm.LinearSVC(C=c, dual="auto", max_iter=20_000, random_state=seed).fit(x, y)
    elif method == "logistic":
        lm = require("sklearn.linear_model", purpose="from_labels(method='logistic')")
        model = lm.LogisticRegression(C=c, max_iter=5_000).fit(x, y)
    else:
        lm = require("sklearn.linear_model", purpose="from_labels(method='ridge')")
        model = lm.Ridge(alpha=alpha).fit(x, y)
    return np.asarray(model.coef_, dtype=np.float64).reshape(-1)


def _score(
    method: str, v: np.ndarray, x_tr: np.ndarray, y_tr: np.ndarray, x_te: np.ndarray, y_te: np.ndarray
) -> dict[str, float]:
    """Held-out accuracy (classifiers: 1-D threshold on the projection) or R^2 (ridge: 1-D linear fit)."""
    if len(y_te) == 0:
        return {}
    p_tr, p_te = x_tr @ v, x_te @ v
    if method == "ridge":
        slope, icept = np.polyfit(p_tr, y_tr, 1)
        resid = y_te - (slope * p_te + icept)
        r2 = 1.0 - float((resid**2).sum()) / max(float(((y_te - y_te.mean()) ** 2).sum()), 1e-30)
        return {"heldout_r2": r2}
    threshold = 0.5 * (p_tr[y_tr == 1].mean() + p_tr[y_tr == 0].mean())
    return classifier_scores(y_te, (p_te > threshold).astype(np.int64))


def classifier_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Held-out accuracy and balanced accuracy (the mean of the two classes' recalls).

    Balanced accuracy is 0.5 for guessing whatever the class balance: on labels that are 80%
    one class, always answering that class scores 0.8 accuracy but 0.5 balanced.

    Example:
        >>> classifier_scores(np.array([0, 0, 0, 0, 1]), np.array([0, 0, 0, 0, 0]))
        {'heldout_accuracy': 0.8, 'heldout_balanced_accuracy': 0.5}
    """
    metrics = require("sklearn.metrics", purpose="from_labels")
    return {
        "heldout_accuracy": float(metrics.accuracy_score(y_true, y_pred)),
        "heldout_balanced_accuracy": float(metrics.balanced_accuracy_score(y_true, y_pred)),
    }


def from_labels(
    codes: Any,
    y: Any,
    method: Method = "mean_diff",
    space: SpaceLike | None = None,
    name: str | None = None,
    *,
    quantile: float = 0.3,
    test_size: float = 0.2,
    c: float = 1.0,
    alpha: float = 1.0,
    seed: int = 0,
    refit: bool = False,
) -> Direction:
    """Find the direction along which a label grows, from labelled codes.

    Methods:
        * ``"mean_diff"``: mean of the positive codes minus mean of the negative codes; each
          class contributes its own mean, so a rare attribute is not swamped (plat's
          balanced attribute vectors).
        * ``"svm"``: normal of a linear SVM boundary (InterFaceGAN).
        * ``"logistic"``: normal of a logistic-regression boundary.
        * ``"ridge"``: coefficients of a ridge regression of continuous labels.

    Classifiers take binary labels as they are; continuous labels keep only the top and
    bottom ``quantile`` (InterFaceGAN's extreme-sample selection). The direction points
    towards the positive class / larger labels. A held-out split (``test_size``) gives
    ``provenance["scores"]``: accuracy and balanced accuracy of thresholding the projection
    (``heldout_accuracy``, ``heldout_balanced_accuracy``), or R^2 for ridge (``heldout_r2``).

    Args:
        codes: ``(N, *shape)`` latents (tensor or numpy).
        y: ``(N,)`` labels: bool, 0/1, two classes, or continuous numbers.
        method: ``"mean_diff"``, ``"svm"``, ``"logistic"`` or ``"ridge"``.
        space: the space of the codes: a :class:`LatentSpace` or a generator (its default
            space). Without it the direction is *unbound*: it records only the shape, applies
            to any latents of that shape, and ``check_compatible`` accepts any space of that
            shape; call ``d.bind(gen)`` to attach it to a model.
        name: the direction's name (default: the label's ``.name`` if it has one, else the method).
        quantile: fraction kept at each end for continuous labels with a classifier.
        test_size: held-out fraction for the score (0 for none).
        c: inverse regularisation of ``svm`` / ``logistic``; alpha: ridge penalty.
        seed: seed of the train/test split (and the SVM).
        refit: after scoring, fit again on all rows for the returned direction (twice the time;
            the held-out score then describes a fit on 80% of the rows, not the returned vector).
            By default the returned direction is the scored one, fitted on the training rows, as
            InterFaceGAN returns its train-split boundary.

    Returns:
        A :class:`Direction` (K=1) with provenance (method, parameters, sample counts, scores).
    """
    if method not in ("mean_diff", "svm", "logistic", "ridge"):
        raise InvalidValueError(
            f"unknown method {method!r}",
            expected="'mean_diff', 'svm', 'logistic' or 'ridge'",
            got=repr(method),
            fix="pick one of the four methods",
        )
    x_all, resolved = codes_matrix(codes, resolve_space(space))
    label_name = getattr(y, "name", None)
    y_all = _labels_vector(y, len(x_all))
    x_np = x_all.numpy()
    if method == "ridge":
        mask, target, kind = np.ones(len(y_all), dtype=bool), y_all, "continuous"
    else:
        mask, target_int, kind = _binarize(y_all, quantile)
        target = target_int
    x_used = x_np[mask]
    tr, te = _split(len(x_used), target, test_size, seed, stratify=method != "ridge")
    v = _fit_vector(method, x_used[tr], target[tr], c, alpha, seed)
    scores = _score(method, v, x_used[tr], target[tr], x_used[te], target[te])
    if refit and len(te):
        v = _fit_vector(method, x_used, target, c, alpha, seed)
    params: dict[str, Any] = {"test_size": test_size, "seed": seed, "refit": refit}
    if method in ("svm", "logistic"):
        params["c"] = c
    if method == "ridge":
        params["alpha"] = alpha
    if kind.startswith("continuous") and method != "ridge":
        params["quantile"] = quantile
    counts = (
        {} if method == "ridge" else {"n_positive": int(target.sum()), "n_negative": int(len(target) - target.sum())}
    )
    prov = base_provenance(
        method,
        params=params,
        label=label_name,
        label_kind=kind,
        n_samples=len(x_used),
        n_train=len(tr),
        n_test=len(te),
        **counts,
        scores=scores,
    )
    default_name = str(label_name) if label_name is not None else method
    return Direction(torch.from_numpy(v).view(-1, *resolved.shape), resolved, name or default_name, prov)


def conditional(primary: Direction, conditions: Any, name: str | None = None) -> Direction:
    """Conditional editing: ``primary`` with every condition direction removed at once.

    Solves a least-squares problem against all conditions together (works for any number
    of conditions, even linearly dependent ones), instead of InterFaceGAN's two-condition
    formula. The result is orthogonal to every condition, so moving along it leaves the
    conditions' *linear* scores unchanged.

    Args:
        primary: the direction to keep (e.g. ``bold``).
        conditions: a Direction, a DirectionSet or a list of them (e.g. ``[italic, serif]``).
        name: the result's name (default ``"<primary>|<conditions>"``).

    Returns:
        A :class:`Direction` in the primary's space.

    Example:
        >>> from latentlab import LatentSpace
        >>> s = LatentSpace("z", (3,), model="toy")
        >>> bold, italic = Direction([1.0, 1.0, 0.0], s, "bold"), Direction([0.0, 1.0, 0.0], s, "italic")
        >>> pure = conditional(bold, [italic])
        >>> pure.name, pure.vector
        ('bold|italic', tensor([1., 0., 0.]))
    """
    conds = list(conditions) if isinstance(conditions, (list, tuple, DirectionSet)) else [conditions]
    cond_names = [getattr(c, "name", "tensor") for c in conds]
    return primary.orthogonalize(conds, name=name or f"{primary.name}|{','.join(cond_names)}")
