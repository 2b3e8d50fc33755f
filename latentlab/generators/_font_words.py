"""Words about fonts: the vocabulary the ``glyphs-text`` captions use, and the words they never use.

One source of truth for ``scripts/build_font_captions.py`` (which writes the captions),
``scripts/train_glyphs_text.py`` (which evaluates on the validation words while choosing a
recipe) and the quality tests (which check that no caption contains a held-out word, and
measure the test words).

Two lists of words never appear in any caption, so that prompts with them measure whether
the text encoder's knowledge carries over to words the prior was not trained on:

* :data:`TEST_WORDS` -- bar 3 of issue 19 ("typewriter" -> monospace, ...); looked at only for
  the reported figures, after every decision was made;
* :data:`VALIDATION_WORDS` -- other unseen synonyms, used to choose the conditioning recipe.

Example:
    >>> from latentlab.generators._font_words import TEST_WORDS, caption_leaks
    >>> sorted(TEST_WORDS)
    ['book face', 'cursive', 'grotesque', 'typewriter']
    >>> caption_leaks("a bold sans-serif"), caption_leaks("a Typewriter font")
    ([], ['typewrit'])
"""

from __future__ import annotations

import re

__all__ = [
    "CATEGORIES",
    "TEST_WORDS",
    "VALIDATION_WORDS",
    "CATEGORY_PROMPTS",
    "WEIGHT_PROMPTS",
    "FORBIDDEN_STEMS",
    "caption_leaks",
]

CATEGORIES = ("serif", "sans-serif", "monospace", "handwriting", "display")

#: Bar 3's unseen synonyms: prompt -> the category it asks for.
TEST_WORDS: dict[str, str] = {
    "typewriter": "monospace",
    "cursive": "handwriting",
    "grotesque": "sans-serif",
    "book face": "serif",
}

#: Unseen synonyms for choosing the recipe (distinct from the test words): prompt -> category.
VALIDATION_WORDS: dict[str, str] = {
    "terminal": "monospace",
    "teletype": "monospace",
    "calligraphy": "handwriting",
    "penmanship": "handwriting",
    "helvetica": "sans-serif",
    "swiss style": "sans-serif",
    "roman": "serif",
    "newspaper text": "serif",
}

#: Word stems no caption may contain (case-insensitive): the test and validation words and
#: their close relatives ("grotesk", "typewritten", "book").
FORBIDDEN_STEMS: tuple[str, ...] = (
    "typewrit",
    "cursiv",
    "grotesk",
    "grotesq",
    "book",
    "terminal",
    "teletype",
    "calligraph",
    "penmanship",
    "helvetica",
    "swiss",
    "roman",
    "newspaper",
)

#: Bar 3's prompts that name a category with a word the captions use.
CATEGORY_PROMPTS: dict[str, str] = {
    "a serif font": "serif",
    "a sans-serif font": "sans-serif",
    "a monospace font": "monospace",
    "a handwriting script": "handwriting",
    "a display font": "display",
}

#: Bar 1's weight words, lightest first (measured ink must rise along them).
WEIGHT_PROMPTS: tuple[str, ...] = ("hairline", "light", "regular", "bold", "black")


def caption_leaks(text: str) -> list[str]:
    """The forbidden stems that ``text`` contains (an empty list for a clean caption)."""
    low = text.lower()
    return [s for s in FORBIDDEN_STEMS if re.search(re.escape(s), low)]
