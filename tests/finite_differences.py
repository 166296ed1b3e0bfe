"""Deprecated location: the central-difference helpers live in :mod:`nnp_ref.checks`.

Kept as a re-export until every test imports ``nnp_ref.checks`` directly.
"""

from nnp_ref.checks import position_derivative, strain_derivative, strained

__all__ = ["position_derivative", "strain_derivative", "strained"]
