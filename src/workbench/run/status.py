"""How a run and its analyses end: the status words written to ``run.json`` and the index."""

STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_INVALID = "invalid input"
STATUS_RUNNING = "running"
STATUS_INTERRUPTED = "interrupted"

__all__ = ["STATUS_OK", "STATUS_FAILED", "STATUS_INVALID", "STATUS_RUNNING", "STATUS_INTERRUPTED"]
