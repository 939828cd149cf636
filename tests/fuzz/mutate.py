"""A seeded mutational fuzzer for WorkflowExecution YAML (the campaign's engine).

``Mutator(seed).input(n)`` returns input number *n* as bytes; it depends only on the seed and *n*,
so any input of a campaign can be made again. About a quarter of the inputs are a valid corpus
workflow with gentle changes it should survive (new input values, references to real outputs,
copies of steps), so both targets and the parity checker see many workflows; most of the rest
get structural mutations (drop, duplicate or retype a field, a hostile scalar, deep nesting, an
anchor and its aliases, a tag on a scalar or a collection, references to steps that exist or not,
renamed keys), written back as block YAML, sometimes with text damage on top; a few are damaged
bytes or random bytes. The hypothesis tests drive the same mutations from hypothesis's random
source (``Mutator(random)``), so a failure shrinks.

The tree is written by a small emitter of our own, not PyYAML's: PyYAML cannot put anchors and
tags where we want them, repeat a key, or splice in a raw hostile snippet.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from fuzz.corpus import HOSTILE_SCALARS, HOSTILE_SNIPPETS, seed_files, valid_seed_files


class Pairs(list[tuple[Any, Any]]):
    """A mapping as key/value pairs: keys may repeat or be collections."""


@dataclass
class Raw:
    """YAML text written as it stands (a hostile scalar, a flow collection...)."""

    text: str


@dataclass
class Alias:
    name: str


@dataclass
class Anchored:
    name: str
    value: Any


@dataclass
class Tagged:
    tag: str
    value: Any


FIELDS = ("apiVersion", "kind", "metadata", "name", "namespace", "labels", "annotations", "spec", "steps",
          "actionType", "image", "inputs", "runAfter", "when", "retries", "timeout", "workspace", "size",
          "usesWorkspace", "secrets", "configMaps", "serviceAccountName", "storageClassName", "engine",
          "resources", "cancel", "uid", "targetResource")
TAGS = ("!!map", "!!seq", "!!str", "!!int", "!!float", "!!bool", "!!null", "!!binary", "!!set", "!!omap",
        "!!timestamp", "!custom", "!", "!<tag:example.com,2000:x>", "!!python/object:os.system")
ACTION_TYPES = ("kubernaut/echo", "kubernetes/scale_deployment", "kubernetes.scale-deployment", "git/clone",
                "kubernetes/restart_pod", "acme/patch-config", "a/b$(x)", "$(steps.a.outputs.x)", "x" * 300)
ODD_CHARS = ("\u0000", "\u0007", "\t", "\r", "\u0085", "\u00a0", "\u200b", "\u202e", "\u2028", "\ufeff", "\ufffe",
             "\U0001f642", "é", "日", "\ud800", "\udfff", "$(", ")", "'", '"', ":", " #", "\\", "{", "[", "&", "*")
_PLAIN = re.compile(r"[A-Za-z_$/][A-Za-z0-9_$()./@\-]*")
_SURROGATES = re.compile("[\ud800-\udfff]")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "nan", "inf"}


def _convert(value: Any) -> Any:
    if isinstance(value, dict):
        return Pairs((k, _convert(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_convert(v) for v in value]
    return value


def load_documents(path: Path) -> list[Any]:
    return [_convert(doc) for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))]


# --- the emitter --------------------------------------------------------------------------------

def _scalar(rng: random.Random, value: Any) -> str:
    if isinstance(value, str):
        if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED and rng.random() < 0.8:
            return value
        if rng.random() < 0.3 and "\n" not in value and "\\" not in value:
            return "'" + value.replace("'", "''") + "'"
        # raw lone surrogates make the whole file invalid UTF-8: mostly write them escaped
        escaped = rng.random() < (0.9 if _SURROGATES.search(value) else 0.3)
        return json.dumps(value, ensure_ascii=escaped)
    if isinstance(value, float) and value != value:
        return ".nan"
    return json.dumps(value)


def _inline(rng: random.Random, value: Any) -> str | None:
    """``value`` written on one line, or None for a block collection."""
    if isinstance(value, Raw):
        return None if "\n" in value.text else value.text
    if isinstance(value, Alias):
        return f"*{value.name}"
    if isinstance(value, Pairs | list):
        return None if value else ("{}" if isinstance(value, Pairs) else "[]")
    if isinstance(value, Anchored | Tagged):
        return None
    return _scalar(rng, value)


def _key(rng: random.Random, key: Any) -> str:
    if isinstance(key, Pairs | list | Anchored | Tagged):
        return "? " + json.dumps(str(key)) + "\n"  # a complex key, spelled simply
    text = _inline(rng, key)
    return text if text is not None else json.dumps(str(key))


def emit(rng: random.Random, prefix: str, value: Any, indent: int, out: list[str]) -> None:
    """Append the lines of ``prefix value`` at ``indent`` (``prefix`` is ``key:``, ``-`` or '')."""
    pad = " " * indent
    if isinstance(value, Anchored):
        emit(rng, f"{prefix} &{value.name}".lstrip(), value.value, indent, out)
        return
    if isinstance(value, Tagged):
        emit(rng, f"{prefix} {value.tag}".lstrip(), value.value, indent, out)
        return
    text = _inline(rng, value)
    if text is not None:
        out.append(f"{pad}{prefix} {text}".rstrip() if prefix else pad + text)
        return
    if isinstance(value, Raw):
        first, *rest = value.text.split("\n")
        out.append(f"{pad}{prefix} {first}")
        out.extend(pad + "  " + line for line in rest if line)
        return
    if prefix:
        out.append(pad + prefix)
        indent += 2
    if isinstance(value, Pairs):
        for key, item in value:
            emit(rng, _key(rng, key) + ":", item, indent, out)
    else:
        for item in value:
            emit(rng, "-", item, indent, out)


def dump(rng: random.Random, documents: list[Any]) -> str:
    out: list[str] = []
    for number, tree in enumerate(documents):
        if number:
            out.append("---")
        emit(rng, "", tree, 0, out)
    return "\n".join(out) + "\n"


# --- structural mutations -----------------------------------------------------------------------

Slot = tuple[Any, int]  # (a Pairs or a list, the index of the entry)


def _slots(tree: Any) -> Iterator[Slot]:
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Anchored | Tagged):
            stack.append(node.value)
        elif isinstance(node, Pairs):
            for i, (_, v) in enumerate(node):
                yield node, i
                stack.append(v)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield node, i
                stack.append(v)


def _get(slot: Slot) -> Any:
    parent, i = slot
    return parent[i][1] if isinstance(parent, Pairs) else parent[i]


def _set(slot: Slot, value: Any) -> None:
    parent, i = slot
    if isinstance(parent, Pairs):
        parent[i] = (parent[i][0], value)
    else:
        parent[i] = value


class Mutator:
    """Seeded inputs: ``input(n)`` depends only on the seed and n; ``generate()`` draws the next one."""

    def __init__(self, seed: int | random.Random) -> None:
        """``seed``: a number, or a Random to draw from (hypothesis passes one it controls)."""
        self.seed = seed if isinstance(seed, int) else 0
        self.rng = seed if isinstance(seed, random.Random) else random.Random(seed)
        self.seeds, self.raw_seeds = _seeds()
        self.anchors = 0
        self.deepened = False
        self.mutations: list[Callable[[Any, Slot], None]] = [
            self.drop, self.duplicate, self.retype, self.hostile, self.hostile, self.deep, self.alias,
            self.tag, self.reference, self.reference, self.rename, self.transplant, self.long_string,
            self.odd_chars, self.boundary, self.odd_key, self.action_type,
        ]

    def input(self, index: int) -> bytes:
        """Input number ``index`` of this seed's campaign, independent of every other input."""
        self.rng.seed(f"{self.seed}/{index}")
        self.anchors = 0
        return self.generate()

    def generate(self) -> bytes:
        rng = self.rng
        self.deepened = False
        roll = rng.random()
        if roll < 0.03:
            return rng.randbytes(rng.randrange(0, 600))
        if roll < 0.08:
            return self.damage_bytes(rng.choice(self.raw_seeds))
        if roll < 0.35:  # gentle: inputs the front end should accept, to exercise the targets and parity
            return self.gentle_input(rng.randrange(len(self.seeds)), rng.choice((1, 2, 3)))
        return self.mutated_input(rng.randrange(len(self.seeds)), rng.choice((1, 1, 2, 2, 3, 4, 6)),
                                  damage=rng.random() < 0.2)

    def gentle_input(self, seed_number: int, changes: int) -> bytes:
        """Seed workflow ``seed_number`` with ``changes`` gentle changes."""
        documents = _copy(self.seeds[seed_number])
        tree = self.rng.choice(documents)
        for _ in range(changes):
            self.gentle(tree)
        return dump(self.rng, documents).encode("utf-8", "surrogatepass")

    def mutated_input(self, seed_number: int, mutations: int, *, damage: bool) -> bytes:
        """Seed workflow ``seed_number`` with ``mutations`` structural mutations, then text damage."""
        rng = self.rng
        documents = _copy(self.seeds[seed_number])
        tree = rng.choice(documents)
        for _ in range(mutations):
            slots = list(_slots(tree))
            if not slots:
                break
            rng.choice(self.mutations)(tree, rng.choice(slots))
        text = dump(rng, documents)
        if damage:
            text = self._damage_text(text)
        return text.encode("utf-8", "surrogatepass")

    def gentle(self, tree: Any) -> None:
        """A change a valid workflow survives: new input values, references to real outputs, a copy
        of a step under a new name."""
        rng = self.rng
        steps = [step for parent, i in _slots(tree) if isinstance(parent, Pairs) and parent[i][0] == "steps"
                 and isinstance(steps_ := _get((parent, i)), list) for step in steps_ if isinstance(step, Pairs)]
        if not steps:
            return
        step = rng.choice(steps)
        names = [v for other in steps for k, v in other if k == "name" and isinstance(v, str)]
        inputs = next((v for k, v in step if k == "inputs" and isinstance(v, Pairs)), None)
        if inputs is None or ("actionType", "kubernaut/echo") not in step or rng.random() < 0.15:
            self.copy_step(tree, step, names)
            return
        # an echo step outputs its inputs: a reference to one of those is valid (unless it closes a cycle)
        echoes = [(name, k) for other in steps if ("actionType", "kubernaut/echo") in other
                  for name in [dict(other).get("name")] if isinstance(name, str)
                  for k, _ in (dict(other).get("inputs") or ()) if isinstance(k, str)] or [("a", "x")]
        source, output = rng.choice(echoes)
        key = rng.choice(["message", "value", "x" * rng.randrange(1, 60), "é", "A_B", *(k for k, _ in inputs)])
        value = rng.choice([
            "".join(rng.choice("ab $()'\"#:{}[]é日🙂\n\t") for _ in range(rng.randrange(0, 40))),
            f"$(steps.{source}.outputs.{output})", f"at $(steps.{source}.outputs.{output}) and $(workflow.name)",
            "$$(not.a.reference)", "x" * rng.choice((63, 64, 4096, 20_000)), rng.randrange(-(2**63), 2**63),
            rng.random() * 10 ** rng.randrange(-5, 300), True, None, [], Pairs(), [1, "two", None],
            Pairs([("nested", Pairs([("deeper", ["$(workflow.name)", "$(workflow.namespace)"])]))]),
        ])
        inputs.append((key, value))
        self._dedupe(inputs)

    def copy_step(self, tree: Any, step: Pairs, names: list[str]) -> None:
        clone = _copy(step)
        name = rng_name(self.rng, names)
        for i, (k, _) in enumerate(clone):
            if k == "name":
                clone[i] = (k, name)
        clone.append(("runAfter", [self.rng.choice(names)]))
        self._dedupe(clone)
        for parent, i in list(_slots(tree)):
            if isinstance(parent, Pairs) and parent[i][0] == "steps" and isinstance(parent[i][1], list):
                parent[i][1].append(clone)
                return

    @staticmethod
    def _dedupe(pairs: Pairs) -> None:
        """Keep the last entry of each key (a gentle change must not repeat one)."""
        last = {k: i for i, (k, _) in enumerate(pairs)}
        pairs[:] = [kv for i, kv in enumerate(pairs) if last[kv[0]] == i]

    # each mutation changes the tree in place at one slot
    def drop(self, tree: Any, slot: Slot) -> None:
        parent, i = slot
        del parent[i]

    def duplicate(self, tree: Any, slot: Slot) -> None:
        parent, i = slot
        parent.insert(i + self.rng.randrange(2), _copy(parent[i]))

    def retype(self, tree: Any, slot: Slot) -> None:
        value = _get(slot)
        choices: list[Any] = [Pairs([("a", value)]), [value], str(value)[:50], 0, 1.5, True, None, Pairs(), []]
        _set(slot, self.rng.choice(choices))

    def hostile(self, tree: Any, slot: Slot) -> None:
        _set(slot, Raw(self.rng.choice(HOSTILE_SCALARS)))

    def deep(self, tree: Any, slot: Slot) -> None:
        if self.deepened:  # twice (or 400 levels) would nest past the recursion limit of our own walks
            return
        self.deepened = True
        value = _get(slot)
        for _ in range(self.rng.choice((3, 20, 99, 100, 101, 150, 250))):
            value = Pairs([("k", value)]) if self.rng.random() < 0.5 else [value]
        _set(slot, value)

    def alias(self, tree: Any, slot: Slot) -> None:
        """Anchor one value and alias it elsewhere, sometimes many times (alias bombs)."""
        self.anchors += 1
        name = f"a{self.anchors}"
        value = _get(slot)
        if self.rng.random() < 0.3:  # a layer of a bomb: a list of aliases of the previous layer
            value = [Alias(f"a{self.anchors - 1}")] * self.rng.randrange(2, 12) if self.anchors > 1 else value
        _set(slot, Anchored(name, value))
        slots = list(_slots(tree))
        for _ in range(self.rng.choice((1, 1, 2, 10))):
            target = self.rng.choice(slots)
            if _get(target) is not _get(slot):
                _set(target, Alias(name if self.rng.random() < 0.9 else "nowhere"))

    def tag(self, tree: Any, slot: Slot) -> None:
        _set(slot, Tagged(self.rng.choice(TAGS), _get(slot)))

    def reference(self, tree: Any, slot: Slot) -> None:
        names = [v for s in _slots(tree) if isinstance(p := s[0], Pairs) and p[s[1]][0] == "name"
                 and isinstance(v := _get(s), str)] or ["a"]
        rng = self.rng
        step = rng.choice([*names, "nope", "", "a.b", "$(x)"])
        output = rng.choice(["x", "revision", "target", "own", "", "a-b", "é", "x" * 80])
        ref = rng.choice([f"$(steps.{step}.outputs.{output})", f"$(steps.{step}.outputs)", f"$(steps.{step})",
                          "$(workflow.namespace)", "$(workflow.name)", "$(workflow.uid)", "$(context.x)",
                          f"$(steps.{step}.outputs.{output}) == 'x'", f"'x' in [$(steps.{step}.outputs.{output})]",
                          f"$(steps.{step}.outputs.{output}) notin [0, 1]", "$(", "$$(", "$(steps.)"])
        value = _get(slot)
        if isinstance(value, str) and rng.random() < 0.5:
            cut = rng.randrange(len(value) + 1)
            ref = value[:cut] + ref + value[cut:]
        if rng.random() < 0.25:  # a runAfter or a when list instead
            ref = [rng.choice([*names, "nope"])] if rng.random() < 0.5 else [ref]  # type: ignore[assignment]
        _set(slot, ref)

    def rename(self, tree: Any, slot: Slot) -> None:
        parent, i = slot
        if not isinstance(parent, Pairs):
            return
        key, value = parent[i]
        text = str(key)
        rng = self.rng
        new = rng.choice([rng.choice(FIELDS), text.upper(), text[:-1], text + "s", text[::-1], text.swapcase(),
                          " " + text, text + "\u200b"])
        parent[i] = (new, value)

    def transplant(self, tree: Any, slot: Slot) -> None:
        donor = rng_choice_slot(self.rng, self.rng.choice(self.rng.choice(self.seeds)))
        if donor is not None:
            _set(slot, _copy(_get(donor)))

    def long_string(self, tree: Any, slot: Slot) -> None:
        value = _get(slot)
        base = value if isinstance(value, str) and value else "x"
        _set(slot, (base * (self.rng.choice((64, 300, 5000, 80_000)) // len(base) + 1))[: 100_000])

    def odd_chars(self, tree: Any, slot: Slot) -> None:
        value = _get(slot)
        text = value if isinstance(value, str) else str(value)
        for _ in range(self.rng.randrange(1, 4)):
            cut = self.rng.randrange(len(text) + 1)
            text = text[:cut] + self.rng.choice(ODD_CHARS) + text[cut:]
        _set(slot, text)

    def boundary(self, tree: Any, slot: Slot) -> None:
        _set(slot, self.rng.choice((0, -1, 1, 63, 64, 253, 254, 2**31 - 1, 2**31, 2**63, -(2**63) - 1, 10**20,
                                    1e308, -0.0, 0.1, float("nan"))))

    def odd_key(self, tree: Any, slot: Slot) -> None:
        parent, i = slot
        if isinstance(parent, Pairs):
            key = self.rng.choice((1, None, True, 1.5, Raw("[a, b]"), Raw("{a: 1}"), "", "<<", "$(x)", "a\u0000"))
            parent.insert(i, (key, _copy(_get(slot))))

    def action_type(self, tree: Any, slot: Slot) -> None:
        _set(slot, self.rng.choice(ACTION_TYPES))

    # --- damage on the text and the bytes -------------------------------------------------------

    def _damage_text(self, text: str) -> str:
        rng = self.rng
        lines = text.split("\n")
        for _ in range(rng.randrange(1, 4)):
            i = rng.randrange(len(lines))
            kind = rng.randrange(6)
            if kind == 0:
                del lines[i]
            elif kind == 1:
                lines.insert(i, lines[i])
            elif kind == 2:
                lines.insert(i, rng.choice(HOSTILE_SNIPPETS).rstrip("\n"))
            elif kind == 3:
                lines[i] = " " * rng.randrange(0, 5) + lines[i].lstrip() if rng.random() < 0.7 else "\t" + lines[i]
            elif kind == 4 and lines[i]:
                cut = rng.randrange(len(lines[i]))
                lines[i] = lines[i][:cut] + rng.choice(ODD_CHARS) + lines[i][cut + rng.randrange(2):]
            elif lines:
                j = rng.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
            if not lines:
                lines = [""]
        out = "\n".join(lines)
        if rng.random() < 0.1:
            out = out[: rng.randrange(len(out) + 1)]
        return out

    def damage_bytes(self, raw: bytes) -> bytes:
        rng = self.rng
        data = bytearray(raw)
        for _ in range(rng.randrange(1, 8)):
            if not data:
                break
            i = rng.randrange(len(data))
            if rng.random() < 0.5:
                data[i] ^= 1 << rng.randrange(8)
            else:
                data[i:i] = rng.choice((b"\xff", b"\xc3", b"\x00", b"\xef\xbb\xbf", b"\xed\xa0\x80", b"\r", b"\n\t"))
        return bytes(data)


@cache
def _seeds() -> tuple[list[list[Any]], list[bytes]]:
    """The valid seed workflows as trees, and every seed file's bytes (read once per process)."""
    return [load_documents(p) for p in valid_seed_files()], [p.read_bytes() for p in seed_files()]


def rng_name(rng: random.Random, taken: list[str]) -> str:
    """A step name not in ``taken``: short, long (up to 63 characters) or with dashes."""
    while True:
        name = rng.choice(["s", "step-", "a" * 40 + "-", "x-y-"]) + str(rng.randrange(10**6))
        if name not in taken:
            return name[:63]


def rng_choice_slot(rng: random.Random, tree: Any) -> Slot | None:
    slots = list(_slots(tree))
    return rng.choice(slots) if slots else None


def _copy(value: Any) -> Any:
    if isinstance(value, Pairs):
        return Pairs((k, _copy(v)) for k, v in value)
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, Anchored):
        return Anchored(value.name, _copy(value.value))
    if isinstance(value, Tagged):
        return Tagged(value.tag, _copy(value.value))
    return value
