"""Active learning: committee -> MD -> uncertain frames -> reference labels -> retrain.

See :mod:`nnp_ref.active_learning.loop` for the algorithm and
:mod:`nnp_ref.active_learning.config` for the settings (TOML).
"""

from nnp_ref.active_learning.config import ActiveLearningConfig, load_config
from nnp_ref.active_learning.loop import ActiveLearningResult, run_active_learning

__all__ = ["ActiveLearningConfig", "ActiveLearningResult", "load_config", "run_active_learning"]
