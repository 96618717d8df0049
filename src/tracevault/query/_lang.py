"""The filter language: one grammar for the Python API, CLI, REST and web UI.

    expr       := or
    or         := and ("or" and)*
    and        := unary ("and" unary)*
    unary      := "not" unary | "(" expr ")" | condition | STRING
    condition  := field OP value | field ["not"] "in" "(" value ("," value)* ")"
                | field "exists"
    OP         := "=" | "!=" | "<" | "<=" | ">" | ">=" | "~" | "!~"
    value      := STRING | NUMBER | DURATION | RELATIVE_TIME | DATE | WORD

``~`` is a glob match (``*`` any run, ``?`` one character); a bare string searches
payloads (messages, tool arguments and results), names and attributes. The expression is
evaluated per span, joined with its trace's summary (fields ``trace.*``); a trace matches
when one of its spans does. Mistakes raise ``FilterSyntaxError`` with the column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .._exceptions import FilterSyntaxError

__all__ = ["Node", "parse_filter"]

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>!=|<=|>=|!~|=|<|>|~)
  | (?P<lparen>\() | (?P<rparen>\)) | (?P<comma>,)
  | (?P<date>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[-+]\d{2}:\d{2})?)?)
  | (?P<reltime>[-+]\d+(?:\.\d+)?(?:s|m|h|d|w)\b)
  | (?P<duration>\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h)\b)
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
  | (?P<word>[A-Za-z_][\w.\-:]*(?:\[(?:"[^"]*"|'[^']*')\])?)
""", re.X)

KEYWORDS = {"and", "or", "not", "in", "exists"}


@dataclass
class Token:
    """A lexeme and where it starts (1-based column)."""

    kind: str
    text: str
    col: int


@dataclass
class Node:
    """A parsed expression node."""

    op: str
    """``and``, ``or``, ``not``, ``cmp``, ``in``, ``exists`` or ``text``."""
    args: tuple[Any, ...]
    col: int


def _tokens(text: str) -> list[Token]:
    out = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise FilterSyntaxError(text, pos + 1, f"unexpected character {text[pos]!r}")
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append(Token(kind, m.group(), pos + 1))
        pos = m.end()
    out.append(Token("end", "", len(text) + 1))
    return out


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def next(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def error(self, tok: Token, message: str) -> FilterSyntaxError:
        return FilterSyntaxError(self.text, tok.col, message)

    def is_word(self, word: str) -> bool:
        tok = self.peek()
        return tok.kind == "word" and tok.text.lower() == word

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise self.error(self.peek(), "empty filter")
        node = self.or_()
        tok = self.peek()
        if tok.kind != "end":
            raise self.error(tok, f"expected 'and', 'or' or the end, found {tok.text!r}")
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.is_word("or"):
            tok = self.next()
            node = Node("or", (node, self.and_()), tok.col)
        return node

    def and_(self) -> Node:
        node = self.unary()
        while self.is_word("and"):
            tok = self.next()
            node = Node("and", (node, self.unary()), tok.col)
        return node

    def unary(self) -> Node:
        tok = self.peek()
        if self.is_word("not"):
            self.next()
            return Node("not", (self.unary(),), tok.col)
        if tok.kind == "lparen":
            self.next()
            node = self.or_()
            close = self.next()
            if close.kind != "rparen":
                raise self.error(close, f"expected ')', found {close.text or 'the end'!r}")
            return node
        if tok.kind == "string":
            self.next()
            return Node("text", (_unquote(tok.text),), tok.col)
        if tok.kind == "word" and tok.text.lower() not in KEYWORDS:
            return self.condition()
        raise self.error(tok, "expected a field, a quoted text or '('"
                         if tok.kind != "end" else "expression ends too early")

    def condition(self) -> Node:
        field = self.next()
        tok = self.peek()
        if self.is_word("exists"):
            self.next()
            return Node("exists", (field.text,), field.col)
        negate = False
        if self.is_word("not"):
            self.next()
            negate = True
            if not self.is_word("in"):
                raise self.error(self.peek(), "expected 'in' after 'not'")
        if self.is_word("in"):
            self.next()
            if self.next().kind != "lparen":
                raise self.error(self.tokens[self.i - 1], "expected '(' after 'in'")
            values = [self.value()]
            while self.peek().kind == "comma":
                self.next()
                values.append(self.value())
            close = self.next()
            if close.kind != "rparen":
                raise self.error(close, f"expected ',' or ')', found {close.text or 'the end'!r}")
            return Node("in", (field.text, values, negate), field.col)
        if tok.kind != "op":
            raise self.error(tok, f"expected an operator (= != < <= > >= ~ !~ in exists) after "
                                  f"{field.text!r}, found {tok.text or 'the end'!r}")
        self.next()
        return Node("cmp", (field.text, tok.text, self.value()), field.col)

    def value(self) -> tuple[str, Any, int]:
        tok = self.next()
        if tok.kind == "string":
            return ("string", _unquote(tok.text), tok.col)
        if tok.kind == "number":
            return ("number", float(tok.text) if any(c in tok.text for c in ".eE")
                    else int(tok.text), tok.col)
        if tok.kind in ("duration", "reltime", "date"):
            return (tok.kind, tok.text, tok.col)
        if tok.kind == "word" and tok.text.lower() not in KEYWORDS:
            return ("word", tok.text, tok.col)
        raise self.error(tok, f"expected a value, found {tok.text or 'the end'!r}")


def parse_filter(text: str) -> Node:
    """Parse a filter expression; ``FilterSyntaxError`` names the column of a mistake."""
    return _Parser(text).parse()
