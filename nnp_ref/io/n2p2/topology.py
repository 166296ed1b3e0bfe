"""Network topology keywords of input.nn, resolved as n2p2 builds the networks.

``Mode::setupNeuralNetwork``: ``global_hidden_layers_<kind>``,
``global_nodes_<kind>`` (one size per hidden layer) and
``global_activation_<kind>`` (one code per hidden layer plus the output
layer) set every element's network; ``element_hidden_layers_<kind>``,
``element_nodes_<kind>`` and ``element_activation_<kind>`` override one
element. ``kind`` is ``short`` (the energy network) or ``electrostatic``
(the charge network of 4G-HDNNPs).

Two quirks of n2p2's per-element keywords are reproduced:
``element_nodes_<kind> <e> n_1 ... n_H`` must list all H hidden layers but
n2p2 applies only n_1 ... n_{H-1} (the last hidden layer keeps the global
size); ``element_activation_<kind> <e> a_1 ... a_H a_out`` must list hidden
and output layers but n2p2 applies only the hidden ones. An ignored value
that differs from the one n2p2 uses gives an :class:`N2p2Warning`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

from nnp_ref.io.n2p2.keywords import Keywords, element_and, values
from nnp_ref.io.n2p2.lines import Line, N2p2FormatError, N2p2Warning
from nnp_ref.model.activations import CODES as ACTIVATION_CODES


@dataclass
class Topology:
    """One kind of network per element, and the keywords it came from.

    ``hidden_nodes[e]``: hidden layer sizes; ``activations[e]``: codes of
    the hidden layers and the output layer. The other fields are the
    keywords' values as written (None/empty when absent).
    """

    hidden_nodes: dict[str, tuple[int, ...]]
    activations: dict[str, tuple[str, ...]]
    global_hidden_layers: int | None = None
    global_nodes: tuple[int, ...] | None = None
    global_activation: tuple[str, ...] | None = None
    element_hidden_layers: dict[str, int] = field(default_factory=dict)
    element_nodes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    element_activation: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _activation_codes(words, line: Line, keyword: str) -> tuple[str, ...]:
    for code in words:
        if code not in ACTIVATION_CODES:
            raise line.error(
                f"unknown activation code {code!r} in {keyword}; "
                f"n2p2 knows {' '.join(ACTIVATION_CODES)}"
            )
    return tuple(words)


def _sizes(line: Line, words, keyword: str) -> tuple[int, ...]:
    """Layer sizes, each a positive integer."""
    sizes = tuple(line.int(w, keyword) for w in words)
    if any(n < 1 for n in sizes):
        raise line.error(f"{keyword}: layer sizes must be positive integers, got {line.value!r}")
    return sizes


def _hidden_layers(kw: Keywords, elements, kind: str, top: Topology) -> dict[str, int]:
    """Number of hidden layers per element (global value, per-element overrides)."""
    keyword = f"global_hidden_layers_{kind}"
    n_hidden = {e: None for e in elements}
    line = kw.one(keyword)
    if line is not None:
        n = line.int(values(line, keyword, 1, 1, "number of hidden layers")[0], keyword)
        if n < 0:
            raise line.error(f"negative number of hidden layers {n}")
        top.global_hidden_layers = n
        n_hidden = {e: n for e in elements}
    keyword = f"element_hidden_layers_{kind}"
    for line in kw.all(keyword):
        e, n = element_and("int")(line, keyword, elements)
        if n < 0:
            raise line.error(f"negative number of hidden layers {n}")
        n_hidden[e] = top.element_hidden_layers[e] = n
    for e, n in n_hidden.items():
        if n is None:
            raise N2p2FormatError(
                kw.path, None, f"missing mandatory keyword global_hidden_layers_{kind} (or "
                f"element_hidden_layers_{kind} for element {e!r})",
            )  # fmt: skip
    return n_hidden


def _global_layers(kw: Keywords, kind: str, top: Topology) -> None:
    """global_nodes_<kind> and global_activation_<kind>, checked against the layer count."""
    n_global = top.global_hidden_layers or 0
    line = kw.one(f"global_nodes_{kind}")
    if line is not None:
        top.global_nodes = _sizes(line, line.tokens[1:], f"global_nodes_{kind}")
        if len(top.global_nodes) != n_global:
            raise line.error(
                f"global_nodes_{kind} lists {len(top.global_nodes)} layers, "
                f"global_hidden_layers_{kind} is {n_global}"
            )
    line = kw.one(f"global_activation_{kind}")
    if line is not None:
        codes = _activation_codes(line.tokens[1:], line, f"global_activation_{kind}")
        if len(codes) != n_global + 1:
            raise line.error(
                f"global_activation_{kind} needs {n_global + 1} codes "
                f"(hidden layers + output), got {len(codes)}"
            )
        top.global_activation = codes


def _element_nodes(kw, elements, kind, n_hidden, nodes, top: Topology) -> None:
    """Apply element_nodes_<kind> (all but the last hidden layer, as n2p2)."""
    keyword = f"element_nodes_{kind}"
    for line in kw.all(keyword):
        words = line.tokens[1:]
        e = line.element(words[0], elements) if words else None
        sizes = _sizes(line, words[1:], keyword)
        if e is None or len(sizes) != n_hidden[e]:
            raise line.error(
                f"{keyword} must list the element and one size per hidden layer "
                f"({n_hidden.get(e, '?')}), got {line.value!r}"
            )
        top.element_nodes[e] = sizes
        nodes[e][: len(sizes) - 1] = sizes[:-1]  # n2p2 skips the last hidden layer
        if sizes and sizes[-1] != nodes[e][len(sizes) - 1]:
            warnings.warn(
                f"{line.path}:{line.number}: n2p2 ignores the last value of {keyword} "
                f"({sizes[-1]}); layer {len(sizes)} of element {e} keeps "
                f"{nodes[e][len(sizes) - 1] or 'no'} neurons",
                N2p2Warning,
                stacklevel=4,
            )


def _element_activations(kw, elements, kind, n_hidden, acts, top: Topology) -> None:
    """Apply element_activation_<kind> (hidden layers only, as n2p2)."""
    keyword = f"element_activation_{kind}"
    for line in kw.all(keyword):
        words = line.tokens[1:]
        e = line.element(words[0], elements) if words else None
        codes = _activation_codes(words[1:], line, keyword)
        if e is None or len(codes) != n_hidden[e] + 1:
            raise line.error(
                f"{keyword} must list the element and one code per "
                f"hidden layer plus the output layer, got {line.value!r}"
            )
        top.element_activation[e] = codes
        acts[e][:-1] = codes[:-1]  # n2p2 skips the output layer
        if codes[-1] != acts[e][-1]:
            warnings.warn(
                f"{line.path}:{line.number}: n2p2 ignores the output-layer code of {keyword} "
                f"({codes[-1]!r}); element {e} keeps {acts[e][-1] or 'no'!r}",
                N2p2Warning,
                stacklevel=4,
            )


def read_topology(kw: Keywords, elements, kind: str = "short") -> Topology:
    """The ``kind`` networks of all elements as n2p2 builds them (see the module docstring)."""
    top = Topology(hidden_nodes={}, activations={})
    n_hidden = _hidden_layers(kw, elements, kind, top)
    _global_layers(kw, kind, top)
    # Layers 1..H hidden, H+1 output; 0 / "" = unset as in n2p2.
    nodes = {e: [0] * n_hidden[e] + [1] for e in elements}
    acts = {e: [""] * (n_hidden[e] + 1) for e in elements}
    for e in elements:
        if n_hidden[e] != (top.global_hidden_layers or 0):
            continue
        if top.global_nodes is not None:
            nodes[e][:-1] = top.global_nodes
        if top.global_activation is not None:
            acts[e][:] = top.global_activation
    _element_nodes(kw, elements, kind, n_hidden, nodes, top)
    _element_activations(kw, elements, kind, n_hidden, acts, top)
    for e in elements:
        for layer, (n, a) in enumerate(zip(nodes[e], acts[e]), start=1):
            if n <= 0 or not a:
                what = "number of neurons" if n <= 0 else "activation function"
                raise N2p2FormatError(
                    kw.path, None, f"{kind} network of element {e!r}: {what} of layer {layer} "
                    f"unset (missing mandatory keyword global_nodes_{kind}/global_activation_"
                    f"{kind} or inconsistent element_* keywords)",
                )  # fmt: skip
    top.hidden_nodes = {e: tuple(nodes[e][:-1]) for e in elements}
    top.activations = {e: tuple(acts[e]) for e in elements}
    return top
