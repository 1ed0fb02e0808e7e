"""Where a stage's per-case work runs. The runner hands every executor the same tasks."""

from pipelines.executors.asyncio_executor import AsyncioExecutor
from pipelines.executors.base import Executor, Outcome, StageFactory, Task
from pipelines.executors.local import InlineExecutor, ProcessPoolExecutor

__all__ = ["AsyncioExecutor", "Executor", "InlineExecutor", "Outcome", "ProcessPoolExecutor", "StageFactory", "Task"]
