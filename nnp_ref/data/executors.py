r"""Where labelling runs: serially, in a local process pool, or on a Dask cluster.

Everything here speaks the ``concurrent.futures`` protocol (``submit`` ->
``Future``), so the labelling loop (:func:`run_tasks`) is the same for

- ``workers=1``: no executor, tasks run one after another in this process;
- ``workers=N``: a local ``ProcessPoolExecutor`` with N processes (started
  with "spawn", so no OpenMP/BLAS thread pool is forked half-initialised),
  each limited to ``threads_per_worker`` OpenMP threads;
- ``scheduler="tcp://host:8786"`` (or a ``distributed.Client``): a Dask
  cluster through ``Client.get_executor()``. This is the path beyond one
  machine: start ``dask scheduler`` on one host and ``dask worker
  tcp://host:8786 --nthreads 1`` on others (by hand, with ``dask ssh``, or
  on a batch system with ``dask-jobqueue``'s ``SLURMCluster(...)``), and
  give the scheduler address to ``nnp-ref label --scheduler``. Workers need
  nnp_ref and PySCF installed; results come back to the caller, which alone
  writes the database.

Results are yielded as they complete, with a tqdm progress bar and ETA.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os

from tqdm import tqdm


def _limit_threads(threads: int) -> None:
    """Process-pool initializer: cap OpenMP/BLAS threads before PySCF is imported."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)


@contextlib.contextmanager
def make_executor(workers: int = 1, scheduler=None, threads_per_worker: int = 1):
    """Context manager giving an executor (or None for serial runs).

    ``scheduler``: a Dask scheduler address (``"tcp://host:8786"``) or a
    ``distributed.Client``; it takes precedence over ``workers``. On exit
    unfinished tasks are cancelled (finished ones were already written).
    """
    if scheduler is not None:
        from distributed import Client

        own = not isinstance(scheduler, Client)
        client = Client(scheduler) if own else scheduler
        try:
            yield client.get_executor()
        finally:
            if own:
                client.close()
        return
    if workers is None or int(workers) <= 1:
        if workers is not None and int(workers) < 1:
            raise ValueError(f"--workers must be >= 1, got {workers}")
        yield None
        return
    pool = cf.ProcessPoolExecutor(
        max_workers=int(workers),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_limit_threads,
        initargs=(int(threads_per_worker),),
    )
    try:
        yield pool
    except BaseException:  # Ctrl-C or an error: do not wait for running calculations
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def run_tasks(fn, args_list, ids, executor=None, progress=True, description="tasks"):
    """Yield ``(fn(*args), id)`` for every task, in order of completion.

    Serial (``executor=None``) runs lazily, one task per iteration, so the
    caller can store each result before the next one starts. With an
    executor all tasks are submitted at once and yielded as they finish.
    """
    args_list, ids = list(args_list), list(ids)
    bar = tqdm(total=len(ids), desc=description, unit="structure", disable=not progress)
    try:
        if executor is None:
            for args, task_id in zip(args_list, ids):
                result = fn(*args)
                bar.update(1)
                yield result, task_id
            return
        futures = {executor.submit(fn, *args): task_id for args, task_id in zip(args_list, ids)}
        try:
            for future in cf.as_completed(futures):
                result = future.result()
                bar.update(1)
                yield result, futures[future]
        finally:
            for future in futures:
                future.cancel()
    finally:
        bar.close()
