"""Reading a rules file: safe YAML (plain tags only), each rule a mapping of known keys.

:func:`_read_yaml` composes the document with PyYAML's safe loader, refuses any tag beyond
text, numbers, lists and mappings (:func:`_check_tags`), and returns each rule's nodes with its
line, so every error names the line of the file it is about.
"""

from __future__ import annotations

from collections.abc import Sequence

import yaml

from prudent.errors import RuleError

__all__: list[str] = []  # helpers of :mod:`prudent.models._rules` only

_RULE_KEYS = ("name", "when", "then", "description")
_SAFE_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map")
)


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _check_tags(node: yaml.Node) -> None:
    if node.tag not in _SAFE_TAGS:
        raise RuleError(
            f"the YAML tag {node.tag!r} is not allowed; rules files hold plain text, "
            "numbers, lists and mappings only.",
            line=_line(node),
        )
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            _check_tags(child)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _check_tags(key)
            _check_tags(value)


def _mapping(node: yaml.Node, what: str, allowed: Sequence[str]) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        raise RuleError(f"{what} must be a mapping with keys {list(allowed)}.", line=_line(node))
    out: dict[str, yaml.Node] = {}
    for key, value in node.value:
        name = str(key.value) if isinstance(key, yaml.ScalarNode) else None
        if name is None or name not in allowed:
            raise RuleError(
                f"unknown key {name!r} in {what}; allowed keys are {list(allowed)}.",
                line=_line(key),
            )
        if name in out:
            raise RuleError(f"key {name!r} appears twice in {what}.", line=_line(key))
        out[name] = value
    return out


def _read_yaml(text: str) -> list[tuple[dict[str, yaml.Node], int]]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = None if mark is None else mark.line + 1
        hint = ""
        if "`" in str(exc.problem):
            hint = " A condition that starts with a backtick must be quoted as a whole."
        raise RuleError(
            f"the rules file is not valid YAML: {exc.problem}.{hint}", line=line
        ) from exc
    except yaml.YAMLError as exc:
        raise RuleError(f"the rules file is not valid YAML: {exc}.") from exc
    if root is None:
        raise RuleError("the rules file is empty; expected a mapping with a 'rules' list.")
    _check_tags(root)
    top = _mapping(root, "the rules file", ["rules"])
    if "rules" not in top:
        raise RuleError("the rules file has no 'rules' key; add 'rules:' and a list.", line=1)
    seq = top["rules"]
    if isinstance(seq, yaml.ScalarNode) and seq.tag.endswith(":null"):
        return []
    if not isinstance(seq, yaml.SequenceNode):
        raise RuleError(
            "'rules' must be a list of rules, each starting with '- name:'.", line=_line(seq)
        )
    return [(_mapping(item, "a rule", _RULE_KEYS), _line(item)) for item in seq.value]


def _text(node: yaml.Node, key: str, rule: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or node.tag.endswith(":null"):
        raise RuleError(f"'{key}' of {rule} must be a single text value.", line=_line(node))
    return str(node.value).strip()
