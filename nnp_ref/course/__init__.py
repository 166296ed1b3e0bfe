"""Teaching material built on the library: lecture figures (``lectures`` and
``lectures_*``, ``diagrams``, ``four_generations``, ``aimd_cost``), exercises with
their checker (``exercises``, ``grading``), structure views (``view``) and the
one-command demos (``demo``, ``demo_report``, ``water_demo``)."""
