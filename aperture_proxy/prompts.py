"""Questions asked in a terminal (questionary), or answered by defaults in scripts.

A `Prompter` is what the onboarding wizard and the settings menu talk to. An
interactive one asks with questionary; a non-interactive one never prompts: it
returns each question's default, so the same steps run from flags alone.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import questionary

__all__ = ["Cancelled", "Option", "Prompter", "printable"]


class Cancelled(Exception):
    """The person pressed Ctrl-C or Ctrl-D at a question."""


@dataclass(frozen=True)
class Option[T]:
    """One answer to choose: its label, its value, and whether it starts ticked.

    A `value` of None with a `title` is a heading between groups of answers.
    """

    title: str
    value: T | None = None
    checked: bool = False
    heading: bool = False


def printable(text: str, limit: int = 80) -> str:
    """`text` on one line with control characters removed, cut to `limit`.

    Names and descriptions come from the gateway; none of them may move the
    cursor or change the terminal.

    >>> printable("a\\x1b[2Jb\\nc")
    'a [2Jb c'
    >>> printable("x" * 10, limit=5)
    'xxxx…'
    """
    clean = "".join(ch if ch.isprintable() else " " for ch in text)
    clean = " ".join(clean.split())
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


class Prompter:
    """Asks questions when `interactive`, else answers each with its default."""

    def __init__(self, *, interactive: bool, out: TextIO | None = None) -> None:
        self.interactive = interactive
        self._out = out

    def say(self, text: str = "") -> None:
        """Print a line for the person running the command."""
        print(text, file=self._out or sys.stdout, flush=True)

    def _ask(self, question: questionary.Question) -> Any:
        try:
            answer = question.unsafe_ask()
        except (KeyboardInterrupt, EOFError):
            raise Cancelled from None
        if answer is None:
            raise Cancelled
        return answer

    def text(
        self,
        message: str,
        default: str = "",
        validate: Callable[[str], bool | str] | None = None,
    ) -> str:
        """A line of text; `validate` returns True or what is wrong."""
        if not self.interactive:
            return default
        question = questionary.text(
            message, default=default, validate=validate or (lambda _: True)
        )
        return str(self._ask(question))

    def confirm(self, message: str, default: bool = True) -> bool:
        """Yes or no."""
        if not self.interactive:
            return default
        return bool(self._ask(questionary.confirm(message, default=default)))

    def select[T](self, message: str, options: Sequence[Option[T]], default: T) -> T:
        """One of `options`; `default` is the value the cursor starts on."""
        if not self.interactive:
            return default
        choices = [_choice(o) for o in options]
        start = next((c for c in choices if c.value == default), None)
        answer: T = self._ask(questionary.select(message, choices, default=start))
        return answer

    def checkbox[T](
        self, message: str, options: Sequence[Option[T]], instruction: str = ""
    ) -> list[T]:
        """Any number of `options`; the default is the ticked ones."""
        if not self.interactive:
            return [o.value for o in options if o.checked and o.value is not None]
        question = questionary.checkbox(
            message,
            [_choice(o) for o in options],
            instruction=instruction or "(space ticks, enter accepts)",
        )
        answer: list[T] = self._ask(question)
        return answer


def _choice(option: Option[Any]) -> questionary.Choice | questionary.Separator:
    if option.heading:
        return questionary.Separator(option.title)
    return questionary.Choice(option.title, value=option.value, checked=option.checked)
