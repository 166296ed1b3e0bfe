r"""Exercises in the makemore "becoming a backprop ninja" format, with their solutions.

Each exercise is a notebook in ``notebooks/exercises/`` where the student
writes the missing lines of one derivation and :func:`nnp_ref.course.grading.check`
grades them against finite differences (or a tested nnp_ref
implementation), naming the typical mistake when it recognises one.

====  ==========  =================================================  ===================
no.   name        the student writes                                 solution
====  ==========  =================================================  ===================
1     cutoff      df_c/dr of the cosine cutoff                       ``descriptors.dfc_dr``
2     radial      dG_i/dR_k of a radial (type 2) function            ``descriptors.radial_dG_dR``
3     angular     dG_i/dR_k of an angular (type 9) function          ``descriptors.angular_dG_dR``
4     layer       one tanh layer's backward pass                     ``network.layer_backward``
5     dEdX        dE/dX of an element network                        ``network.input_gradient``
6     forces      forces from dE/dG and the sparse dG/dR             ``forces.assemble_forces``
7     virial      the stress tensor from the pair virial             ``forces.virial_stress``
8     verlet      one velocity-Verlet step                           ``updates.verlet_step``
9     kalman      one extended-Kalman-filter update                  ``updates.kalman_update``
====  ==========  =================================================  ===================

``show_solution("cutoff")`` prints a solution's source (for after the attempt).
"""

from __future__ import annotations

import inspect

from nnp_ref.course.grading import Exercise


def _registry() -> dict[str, Exercise]:
    from nnp_ref.course.exercises import descriptors, forces, network, updates

    exercises = (
        descriptors.CUTOFF,
        descriptors.RADIAL_EXERCISE,
        descriptors.ANGULAR_EXERCISE,
        network.LAYER_EXERCISE,
        network.INPUT_EXERCISE,
        forces.FORCES_EXERCISE,
        forces.VIRIAL_EXERCISE,
        updates.VERLET_EXERCISE,
        updates.KALMAN_EXERCISE,
    )
    return {exercise.name: exercise for exercise in exercises}


def exercise_names() -> list[str]:
    """Names of all exercises, in course order."""
    return list(_registry())


def get_exercise(name: str) -> Exercise:
    """The :class:`Exercise` called ``name`` (ValueError listing the names if unknown)."""
    registry = _registry()
    if name not in registry:
        raise ValueError(f"unknown exercise {name!r}; choose one of: {', '.join(registry)}")
    return registry[name]


def show_solution(name: str) -> None:
    """Print the source of exercise ``name``'s model solution."""
    print(inspect.getsource(get_exercise(name).solution))


__all__ = ["exercise_names", "get_exercise", "show_solution"]
