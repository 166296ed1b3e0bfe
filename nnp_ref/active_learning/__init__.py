"""Active learning: committee -> MD -> uncertain frames -> reference labels -> retrain.

See :mod:`nnp_ref.active_learning.loop` for the algorithm,
:mod:`nnp_ref.active_learning.config` for the settings (TOML, trust window),
:mod:`nnp_ref.active_learning.steps` for one iteration's steps,
:mod:`nnp_ref.active_learning.starts` for the initial set and MD starts,
``frames`` and ``report`` for what the loop writes, and ``docs/active_learning.md``.
"""

from nnp_ref.active_learning.config import ActiveLearningConfig, load_config
from nnp_ref.active_learning.loop import ActiveLearningResult, run_active_learning

__all__ = ["ActiveLearningConfig", "ActiveLearningResult", "load_config", "run_active_learning"]
