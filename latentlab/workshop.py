"""``ll.workshop``: exercises with checkers and hidden solutions, workshop settings, and the gallery page.

For the 90-minute path in ``notebooks/workshop/`` (instructor guide: ``docs/workshop/GUIDE.md``):

* :func:`check` ``(name, answer)`` says *right* or *not yet, and why*; an answer left as ``...``
  or ``None`` is "not answered yet" and never raises, so the cells after a blank exercise run;
* :func:`solution` ``(name)`` shows the hidden solution (code and the idea behind it);
* :func:`workshop_mode` is one switch for an old laptop: fewer torch threads (a core stays free
  for the browser), smaller live images and low-resolution previews while dragging; reversible;
* :class:`Gallery` is the artefact each participant takes home: a one-page HTML file of their
  bookmarks with provenance (model, latent, directions, seed), images embedded as data URIs,
  written atomically, opening in any browser with no server. ``gallery.follow(explorer)``
  collects an Explorer's bookmarks as they are made.

Example:
    >>> import latentlab as ll
    >>> ll.workshop.check("latent-size", ...).ok
    False
    >>> ll.workshop.check("latent-size", 16).ok
    True
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import difflib
import html
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import InvalidValueError, ShapeError
from .settings import WorkshopSettings, settings, workshop_mode

__all__ = [
    "EXERCISES",
    "Exercise",
    "Result",
    "check",
    "solution",
    "exercises",
    "WorkshopSettings",
    "workshop_mode",
    "settings",
    "Bookmark",
    "Gallery",
    "save_gallery",
]


# =========================================================================== exercises
@dataclasses.dataclass(frozen=True)
class Result:
    """What :func:`check` says: ``ok`` and a short message (printed; shown coloured in Jupyter)."""

    name: str
    ok: bool
    message: str
    answered: bool = True

    def __str__(self) -> str:
        mark = "right" if self.ok else ("not answered yet" if not self.answered else "not yet")
        return f"[{self.name}] {mark}: {self.message}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.ok else ("#57606a" if not self.answered else "#9a6700")
        mark = "&#10003; right" if self.ok else ("&hellip; not answered yet" if not self.answered else "not yet")
        return (
            f"<div class='latentlab-check' data-ok='{str(self.ok).lower()}' style='border-left:4px solid {colour};"
            f"padding:4px 10px'><b style='color:{colour}'>{mark}</b> "
            f"<code>{html.escape(self.name)}</code>: {html.escape(self.message)}</div>"
        )


@dataclasses.dataclass(frozen=True)
class Exercise:
    """One exercise of the path.

    Attributes:
        name: its id (``ll.workshop.check(name, answer)``).
        part: the workshop part it belongs to.
        question: what to do, in one or two sentences.
        solution: Python code that sets ``answer`` (runs on its own, after ``import latentlab as ll``).
        why: the idea behind the solution, in a sentence or two.
        judge: ``answer -> (ok, message)``.
    """

    name: str
    part: str
    question: str
    solution: str
    why: str
    judge: Callable[[Any], tuple[bool, str]] = dataclasses.field(repr=False, compare=False)


EXERCISES: dict[str, Exercise] = {}


def _exercise(name: str, part: str, question: str, solution: str, why: str) -> Callable[..., Any]:
    def register(judge: Callable[[Any], tuple[bool, str]]) -> Callable[[Any], tuple[bool, str]]:
        EXERCISES[name] = Exercise(name, part, question, solution.strip(), why, judge)
        return judge

    return register


def _torch() -> Any:
    import torch

    return torch


_MODELS: dict[str, Any] = {}


def _model(name: str) -> Any:
    """The checkers' own copy of a bundled model, loaded once (participants' changes to theirs do not matter)."""
    if name not in _MODELS:
        from .generators import load

        _MODELS[name] = load(name)
    return _MODELS[name]


def _as_vector(answer: Any, dim: int) -> Any:
    """A tensor ``(dim,)`` from a tensor, an array, a list or a Direction (its first vector); else raise."""
    torch = _torch()
    vec = getattr(answer, "vectors", answer)
    t = (
        torch.as_tensor(vec, dtype=torch.float32).detach().cpu().reshape(-1, dim)[0]
        if torch.as_tensor(vec).numel() % dim == 0
        else None
    )
    if t is None or not bool(torch.isfinite(t).all()):
        raise ValueError(f"expected {dim} finite numbers (a latent or a direction), got {_describe(answer)}")
    return t


def _describe(x: Any) -> str:
    shape = getattr(x, "shape", None)
    return f"{type(x).__name__} of shape {tuple(shape)}" if shape is not None else f"{type(x).__name__} {x!r:.60}"


@_exercise(
    "latent-size",
    "1 first image",
    "How many numbers make one latent of the `digits` model? Predict, then find out.",
    'answer = ll.load("digits").sample(1).shape[-1]   # 16',
    "A latent is a point in a 16-dimensional space: `gen.sample(n)` has shape (n, 16) and "
    "`gen.decode` turns each row into an image.",
)
def _latent_size(answer: Any) -> tuple[bool, str]:
    size = int(_model("digits").default_space.shape[-1])
    if isinstance(answer, bool) or not isinstance(answer, int):
        return False, f"answer with a whole number, not {_describe(answer)} (hint: gen.sample(1).shape)"
    if answer == size:
        return True, f"a digits latent is {size} numbers; every image of the model is one point of that space"
    if answer == 2:
        return False, "2 is digits-2d (the model we laid out on a grid); `digits` has more: look at gen.sample(1).shape"
    return False, f"{answer} is not it: print gen.sample(1).shape and read the last number"


@_exercise(
    "slerp-midpoint",
    "2 interpolation",
    "With `a, b = ll.load('digits').sample(2, seed=0)`, make the midpoint between a and b that "
    "looks like a typical latent (its length close to the lengths of a and b).",
    'first, second = ll.load("digits").sample(2, seed=0)\nanswer = ll.slerp(first, second, steps=3)[1]',
    "In 16 dimensions almost every sample from the prior has length about 4 (sqrt 16). The straight-"
    "line midpoint (a + b) / 2 is shorter (about 4 / sqrt 2 = 2.8): a latent the model rarely saw, so it "
    "looks faded. slerp walks along the sphere and keeps the length.",
)
def _slerp_midpoint(answer: Any) -> tuple[bool, str]:
    torch = _torch()
    a, b = _model("digits").sample(2, seed=0)
    try:
        z = _as_vector(answer, a.numel())
    except ValueError as exc:
        return False, str(exc)
    typical = float((a.norm() + b.norm()) / 2)
    norm = float(z.norm())
    cos_a = float(torch.nn.functional.cosine_similarity(z, a, dim=0))
    cos_b = float(torch.nn.functional.cosine_similarity(z, b, dim=0))
    if min(cos_a, cos_b) < 0.3 or abs(cos_a - cos_b) > 0.25:
        return False, (
            f"that point is not half-way between a and b (cosine {cos_a:.2f} to a, {cos_b:.2f} to b); "
            "use the seed-0 pair and the middle of the path"
        )
    lerp_norm = float(((a + b) / 2).norm())
    if abs(norm - typical) <= 0.1 * typical:
        return True, (
            f"its length is {norm:.2f}, like a ({float(a.norm()):.2f}) and b ({float(b.norm()):.2f}); "
            f"the straight-line midpoint would be {lerp_norm:.2f}"
        )
    hint = " (that is the straight-line midpoint)" if abs(norm - lerp_norm) < 0.05 * typical else ""
    return False, (
        f"its length is {norm:.2f}{hint}, but a and b have {float(a.norm()):.2f} and "
        f"{float(b.norm()):.2f}: a typical latent is about {typical:.1f} long. Try ll.slerp"
    )


_INK_TEXT = "Hb"


def _ink(gen: Any, z: Any) -> Any:
    """Mean ink of the glyphs of ``_INK_TEXT`` for each latent ``(N,)``."""
    return gen.glyphs(z, _INK_TEXT).mean((1, 2, 3))


@_exercise(
    "bolder",
    "3 directions",
    "Make a direction in the `glyphs` space that makes fonts bolder (hint: "
    "`ll.directions.from_labels(codes, labels[...], space=gen)`).",
    'glyphs_model = ll.load("glyphs")\n'
    'answer = ll.directions.from_labels(glyphs_model.codes(), glyphs_model.labels()["weight"],\n'
    '                                   space=glyphs_model, name="bold")',
    "The training fonts come with their weights (100 thin ... 900 black). The difference between the "
    "mean code of the heaviest fonts and that of the lightest points where weight grows; adding it to "
    "any font adds ink.",
)
def _bolder(answer: Any) -> tuple[bool, str]:
    torch = _torch()
    gen = _model("glyphs")
    dim = int(gen.default_space.shape[-1])
    try:
        d = _as_vector(answer, dim)
    except ValueError as exc:
        return False, str(exc)
    if float(d.norm()) == 0:
        return False, "that direction is all zeros"
    d = d / d.norm()
    z = gen.sample(8, seed=0)
    both = _ink(gen, torch.cat([z + 2 * d, z - 2 * d]))
    plus, minus = both[:8], both[8:]
    gain = plus - minus
    bolder = int((gain > 0).sum())
    mean = float(gain.mean() / both.mean())
    if bolder >= 7 and mean > 0.1:
        return True, f"stepping along it adds ink to {bolder} of 8 fonts (+{mean:.0%} ink on average)"
    if bolder <= 1 and mean < -0.1:
        return False, f"it makes fonts lighter ({mean:+.0%} ink): flip its sign (-direction)"
    return False, (
        f"it adds ink to only {bolder} of 8 fonts ({mean:+.0%} on average): a random direction does "
        "that too. Use the 'weight' labels"
    )


@_exercise(
    "map-variance",
    "4 maps",
    "What fraction of the variance of the glyphs training codes does a 2-D PCA map keep? (a number between 0 and 1)",
    "import numpy as np\n"
    'training_codes = ll.load("glyphs").codes().numpy()\n'
    "variances = np.linalg.svd(training_codes - training_codes.mean(0), compute_uv=False) ** 2\n"
    "answer = float(variances[:2].sum() / variances.sum())",
    "A map is a shadow of a 64-D space on a 2-D page: PCA keeps the two directions of most variance, "
    "which is only part of it. Points close on the map can be far apart in the space; the map is a "
    "guide to neighbourhoods, not a ruler.",
)
def _map_variance(answer: Any) -> tuple[bool, str]:
    import numpy as np

    codes = _model("glyphs").codes().cpu().numpy()
    s = np.linalg.svd(codes - codes.mean(0), compute_uv=False) ** 2
    kept = float(s[:2].sum() / s.sum())
    if isinstance(answer, bool) or (not isinstance(answer, (int, float)) and not hasattr(answer, "item")):
        return False, f"answer with a number between 0 and 1, not {_describe(answer)}"
    value = float(answer.item() if hasattr(answer, "item") else answer)
    if value > 1.0:
        value_pct = value / 100
        if abs(value_pct - kept) < 0.02:
            return False, f"{value:g} looks like a percentage: give the fraction ({value_pct:.2f})"
    if abs(value - kept) < 0.02:
        return True, (
            f"a 2-D PCA map keeps {kept:.0%} of the variance; the other {1 - kept:.0%} is spread "
            "over 62 more directions"
        )
    return False, (
        f"{value:.2f} is not it: square the singular values of the centred codes and take the share of the first two"
    )


@_exercise(
    "morph-frames",
    "6 your own artefact",
    "How many frames does a 2-second morph at 12 frames per second have? Predict, then count "
    "`len(ll.frames(gen, keyframes, fps=12, seconds=2))`.",
    "answer = 24   # round(fps * seconds)",
    "A morph is a path through latent space sampled at fps x seconds points; every frame is one "
    "decode, so halving fps or seconds halves the time it takes.",
)
def _morph_frames(answer: Any) -> tuple[bool, str]:
    from .animate import frame_count

    n = frame_count(12, 2)
    if isinstance(answer, bool) or not isinstance(answer, int):
        return False, f"answer with a whole number, not {_describe(answer)}"
    if answer == n:
        return True, f"{n} frames: one decode each; at 12 fps they play for 2 seconds"
    return False, f"{answer} is not it: fps is frames per second"


def exercises() -> list[Exercise]:
    """The exercises of the path, in order."""
    return list(EXERCISES.values())


def _get(name: str) -> Exercise:
    if name not in EXERCISES:
        close = difflib.get_close_matches(str(name), list(EXERCISES), n=1, cutoff=0.4)
        raise InvalidValueError(
            f"no workshop exercise named {name!r}",
            expected=f"one of {list(EXERCISES)}",
            got=repr(name),
            fix=f"did you mean {close[0]!r}?" if close else "see ll.workshop.exercises()",
        )
    return EXERCISES[name]


def check(name: str, answer: Any) -> Result:
    """Say whether ``answer`` solves exercise ``name``: right, or not yet and why. Never raises for an answer.

    Args:
        name: the exercise id (see :func:`exercises`).
        answer: your answer; ``...`` or ``None`` (the blank in the notebook) means "not answered yet".

    Returns:
        A :class:`Result` (``.ok``), printed as one line.

    Example:
        >>> print(check("morph-frames", 20))
        [morph-frames] not yet: 20 is not it: fps is frames per second
    """
    ex = _get(name)
    if answer is None or answer is Ellipsis:
        return Result(
            name, False, f"replace the ... with your answer; ll.workshop.solution({name!r}) shows one", answered=False
        )
    try:
        ok, message = ex.judge(answer)
    except Exception as exc:  # a participant's odd answer must never stop the notebook
        return Result(name, False, f"could not check that answer ({type(exc).__name__}: {exc})")
    return Result(name, bool(ok), message)


class _Solution:
    def __init__(self, ex: Exercise) -> None:
        self.ex = ex

    def __str__(self) -> str:
        return f"# solution of {self.ex.name!r}\n{self.ex.solution}\n\n# why: {self.ex.why}"

    __repr__ = __str__

    def _repr_markdown_(self) -> str:
        return f"**Solution of `{self.ex.name}`**\n\n```python\n{self.ex.solution}\n```\n\n{self.ex.why}"


def solution(name: str) -> _Solution:
    """The hidden solution of exercise ``name``: code that sets ``answer`` and the idea behind it.

    Example:
        >>> print(solution("morph-frames").ex.solution)
        answer = 24   # round(fps * seconds)
    """
    return _Solution(_get(name))


# =========================================================================== the gallery
@dataclasses.dataclass(frozen=True)
class Bookmark:
    """One gallery entry: an image and where it came from.

    Attributes:
        png: the image as PNG bytes (or GIF bytes for an animation, see ``mime``).
        model: the model's name.
        space: the latent space's key.
        latent: the latent as a flat list of floats (``None`` for an animation).
        seed: the seed it started from, if known.
        directions: ``{direction name: strength}`` applied, if known.
        note: the participant's caption.
        created: ISO time stamp (UTC).
        mime: ``"image/png"`` or ``"image/gif"``.
        details: more of what made the image, e.g. ``{"text": "Hello World"}`` for a glyphs specimen.
    """

    png: bytes
    model: str
    space: str = ""
    latent: list[float] | None = None
    seed: int | None = None
    directions: dict[str, float] | None = None
    note: str = ""
    created: str = ""
    mime: str = "image/png"
    details: dict[str, str] | None = None

    def provenance(self) -> dict[str, Any]:
        """Everything but the image, JSON-ready."""
        d = dataclasses.asdict(self)
        d.pop("png")
        return d


class Gallery:
    """A participant's bookmarks, saved as one self-contained HTML page.

    Args:
        title: the page title.
        author: shown under the title (a name or a pseudonym; optional).

    Example:
        >>> import tempfile, pathlib, latentlab as ll
        >>> gen = ll.load("digits")
        >>> g = Gallery("my digits")
        >>> _ = g.add(gen, gen.sample(1, seed=3)[0], seed=3, note="a three?")
        >>> path = g.save(pathlib.Path(tempfile.mkdtemp()) / "gallery.html")
        >>> len(Gallery.load(path)), Gallery.load(path)[0].seed
        (1, 3)
    """

    def __init__(self, title: str = "My latent-space gallery", author: str = "") -> None:
        self.title, self.author = str(title), str(author)
        self.bookmarks: list[Bookmark] = []
        self.path: Path | None = None  #: where :meth:`save` writes when given no path
        self._followed: list[Any] = []

    @classmethod
    def open(cls, path: str | os.PathLike[str], title: str = "My latent-space gallery", author: str = "") -> Gallery:
        """The gallery saved at ``path`` (a new, empty one if there is none yet); :meth:`save` writes back there.

        Each part of the workshop opens the same page, adds to it and saves it.
        """
        target = Path(path)
        g = cls.load(target) if target.is_file() else cls(title, author)
        g.path = target
        return g

    def __len__(self) -> int:
        return len(self.bookmarks)

    def __getitem__(self, i: int) -> Bookmark:
        return self.bookmarks[i]

    def __iter__(self) -> Iterator[Bookmark]:
        return iter(self.bookmarks)

    def __repr__(self) -> str:
        return f"<Gallery {self.title!r}: {len(self)} bookmark(s)>"

    # -- filling it -------------------------------------------------------------------
    def add(
        self,
        gen: Any,
        latent: Any,
        *,
        seed: int | None = None,
        directions: Mapping[str, float] | Sequence[tuple[Any, float]] | None = None,
        note: str = "",
        space: Any = None,
    ) -> Bookmark:
        """Decode ``latent`` with ``gen`` and add it with its provenance.

        Args:
            gen: the generator.
            latent: one latent ``(*space.shape)`` (a batch of one is accepted).
            seed: the seed it came from, if any.
            directions: ``{name: strength}`` or ``[(Direction, strength), ...]`` that were applied.
            note: a caption.
            space: the latent space (default: the generator's default).

        Returns:
            The :class:`Bookmark` added.
        """
        from .render import png_bytes

        torch = _torch()
        sp = gen.space(space)
        z = torch.as_tensor(latent, dtype=torch.float32).detach().cpu()
        if z.numel() != _numel(sp.shape):
            raise ShapeError(
                "a bookmark is one latent",
                expected=f"{tuple(sp.shape)} (or a batch of one)",
                got=str(tuple(z.shape)),
                fix="pass latents[i], not the whole batch",
            )
        z = z.reshape(*sp.shape)
        image = gen.decode(z[None], space=sp)[0]
        mark = Bookmark(
            png=png_bytes(image, compress_level=6),
            model=str(gen.name),
            space=str(sp.name),
            latent=[round(float(v), 5) for v in z.reshape(-1).tolist()],
            seed=seed,
            directions=_directions_dict(directions),
            note=str(note),
            created=_now(),
            details={"text": str(gen.text)} if isinstance(getattr(gen, "text", None), str) else None,
        )
        self.bookmarks.append(mark)
        return mark

    def add_animation(self, anim: Any, *, model: str = "", note: str = "") -> Bookmark:
        """Add a GIF (an :class:`~latentlab.Animation` or a ``.gif`` path) to the page.

        Raises:
            InvalidValueError: the file is not a GIF (MP4 and WebP do not embed as images everywhere).
        """
        path = Path(os.fspath(anim))
        data = path.read_bytes() if path.is_file() else b""
        if data[:4] != b"GIF8":
            raise InvalidValueError(
                f"{path} is not a GIF file",
                expected="a .gif written by ll.save_morph",
                got=repr(data[:8]) if data else "no such file",
                fix='save the morph with a ".gif" name: ll.save_morph(gen, keys, "morph.gif")',
            )
        mark = Bookmark(
            png=data, model=str(model or getattr(anim, "model", "")), note=str(note), created=_now(), mime="image/gif"
        )
        self.bookmarks.append(mark)
        return mark

    def follow(self, explorer: Any) -> Gallery:
        """Collect an :class:`~latentlab.Explorer`'s bookmarks: those it has and each one made later.

        A bookmark made after ``follow`` records the Explorer's seed and slider strengths at that moment
        (earlier ones record the latent and the seed only).
        """
        from .widgets.explorer import direction_name

        def add_new(_: Any = None) -> None:
            done = sum(1 for e, _n in self._followed if e is explorer)
            for z in explorer.bookmarks[done:]:
                names = [direction_name(d, i) for i, d in enumerate(explorer.directions)]
                strengths = dict(zip(names, (round(float(s), 4) for s in explorer.strengths)))
                close = bool(torch.allclose(z, explorer.latent, atol=1e-6))
                self.add(
                    explorer.gen,
                    z,
                    seed=int(explorer.seed_box.value),
                    directions=strengths if close else None,
                    space=explorer.space,
                    note=f"bookmark {len(self._followed) + 1} from the Explorer",
                )
                self._followed.append((explorer, z))

        torch = _torch()
        explorer.gallery.observe(add_new, names="children")
        add_new()
        return self

    # -- the page ---------------------------------------------------------------------
    def to_html(self) -> str:
        """The page: every image as a data URI, provenance beside it, the data as JSON; no external resources."""
        from ._version import __version__

        cards = "\n".join(_card_html(i, b) for i, b in enumerate(self.bookmarks))
        data = json.dumps(
            {
                "title": self.title,
                "author": self.author,
                "latentlab": __version__,
                "bookmarks": [{**b.provenance(), "image": _data_uri(b)} for b in self.bookmarks],
            }
        )
        data = data.replace("</", "<\\/")  # keep the JSON from closing the script element
        byline = f" by {html.escape(self.author)}" if self.author else ""
        return _PAGE.format(
            title=html.escape(self.title),
            byline=byline,
            n=len(self.bookmarks),
            cards=cards,
            made=html.escape(_now()[:10]),
            version=html.escape(__version__),
            data=data,
        )

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write the page to ``path`` (default: where :meth:`open` found it) atomically; returns the path.

        The page is one ``.html`` file that opens in any browser, with no server and no network.
        """
        from ._atomic import atomic_path

        if path is None and self.path is None:
            raise InvalidValueError(
                "save() needs a path for a new gallery",
                expected="gallery.save('my_gallery.html')",
                got="no path",
                fix="pass a file name ending in .html",
            )
        target = Path(path) if path is not None else self.path
        assert target is not None
        if target.suffix.lower() not in (".html", ".htm"):
            raise InvalidValueError(
                f"a gallery is an HTML page, not {target.suffix or 'a file without a suffix'}",
                expected="a name ending in .html",
                got=target.name,
                fix=f"save to {target.with_suffix('.html').name!r}",
            )
        text = self.to_html()
        with atomic_path(target) as tmp:
            tmp.write_text(text, encoding="utf-8")
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Gallery:
        """Read a page written by :meth:`save` back (to add more bookmarks next time)."""
        text = Path(path).read_text(encoding="utf-8")
        start = text.find(_JSON_OPEN)
        end = text.find("</script>", start)
        if start < 0 or end < 0:
            raise InvalidValueError(
                f"{path} is not a latentlab gallery page",
                expected="a page written by Gallery.save",
                got="no gallery data in it",
                fix="pass the .html you saved",
            )
        raw = json.loads(text[start + len(_JSON_OPEN) : end].replace("<\\/", "</"))
        g = cls(raw.get("title", ""), raw.get("author", ""))
        for b in raw["bookmarks"]:
            image = b.pop("image")
            g.bookmarks.append(Bookmark(png=base64.b64decode(image.split(",", 1)[1]), **b))
        return g

    def _repr_html_(self) -> str:
        thumbs = "".join(
            f"<img src='{_data_uri(b)}' title='{html.escape(b.note)}' "
            "style='height:64px;margin:2px;image-rendering:pixelated;border:1px solid #ddd'>"
            for b in self.bookmarks
        )
        return f"<div><b>{html.escape(self.title)}</b>: {len(self)} bookmark(s)<br>{thumbs}</div>"


def save_gallery(
    bookmarks: Gallery | Sequence[Bookmark],
    path: str | os.PathLike[str],
    *,
    title: str = "My latent-space gallery",
    author: str = "",
) -> Path:
    """Write ``bookmarks`` (a :class:`Gallery` or a list of :class:`Bookmark`) as one HTML page, atomically."""
    if isinstance(bookmarks, Gallery):
        return bookmarks.save(path)
    g = Gallery(title, author)
    g.bookmarks.extend(bookmarks)
    return g.save(path)


def _numel(shape: Sequence[int]) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n


def _directions_dict(directions: Any) -> dict[str, float] | None:
    if directions is None:
        return None
    if isinstance(directions, Mapping):
        return {str(k): float(v) for k, v in directions.items()}
    out = {}
    for i, (d, s) in enumerate(directions):
        out[str(getattr(d, "name", None) or f"direction {i}")] = float(s)
    return out


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _data_uri(b: Bookmark) -> str:
    return f"data:{b.mime};base64,{base64.b64encode(b.png).decode('ascii')}"


def _png_size(png: bytes) -> tuple[int, int]:
    """``(width, height)`` from a PNG header (``(0, 0)`` if it is not one)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or len(png) < 24:
        return (0, 0)
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _card_html(i: int, b: Bookmark) -> str:
    rows = [("model", b.model + (f" / {b.space}" if b.space else ""))]
    if b.seed is not None:
        rows.append(("seed", str(b.seed)))
    if b.directions:
        rows.append(("directions", ", ".join(f"{k} {v:+g}" for k, v in b.directions.items())))
    rows += [(k, v) for k, v in (b.details or {}).items()]
    rows.append(("made", b.created.replace("T", " ").rstrip("Z") + " UTC" if b.created else ""))
    table = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    latent = ""
    if b.latent is not None:
        nums = ", ".join(f"{v:.3f}" for v in b.latent)
        latent = f"<details><summary>latent ({len(b.latent)} numbers)</summary><code>[{nums}]</code></details>"
    note = f"<p class='note'>{html.escape(b.note)}</p>" if b.note else ""
    small = " class='small'" if b.mime == "image/png" and max(_png_size(b.png)) <= 64 else ""  # crisp pixels
    return (
        f"<figure class='card' id='bookmark-{i + 1}'><img{small} src='{_data_uri(b)}' alt='bookmark {i + 1}'>"
        f"<figcaption>{note}<table>{table}</table>{latent}</figcaption></figure>"
    )


_JSON_OPEN = '<script type="application/json" id="latentlab-gallery">'
_PAGE = (
    """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px;
       padding: 0 1rem; color: #1f2328; background: #fafafa; }}
h1 {{ margin-bottom: 0.2rem; }} .sub {{ color: #57606a; margin-top: 0; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 1rem; }}
.card {{ margin: 0; background: white; border: 1px solid #d0d7de; border-radius: 8px; padding: 0.8rem; }}
.card img {{ width: 100%; max-height: 220px; object-fit: contain; background: white; }}
.card img.small {{ image-rendering: pixelated; }}
.note {{ font-weight: 600; margin: 0.4rem 0; }}
table {{ font-size: 0.85rem; border-collapse: collapse; }} th {{ text-align: left; color: #57606a;
        padding-right: 0.6rem; font-weight: normal; vertical-align: top; }}
details {{ font-size: 0.75rem; margin-top: 0.3rem; }} code {{ word-break: break-all; }}
footer {{ margin-top: 2rem; color: #57606a; font-size: 0.8rem; }}
</style></head><body>
<h1>{title}</h1>
<p class="sub">{n} bookmark(s){byline} &middot; made with latentlab {version} on {made}</p>
<main class="grid">
{cards}
</main>
<footer>Each latent above decodes to its image again: <code>ll.load(model).decode(torch.tensor(latent)[None])</code>
(for glyphs, set <code>gen.text</code> to the text listed first).
This page needs no server or network; its data is also in the JSON below.</footer>
"""
    + _JSON_OPEN
    + """{data}</script>
</body></html>
"""
)
