"""The one exception the pipeline raises: for its own failures, never for a student's."""


class PipelineError(RuntimeError):
    """The pipeline itself failed (no release, a broken gradebook), not a student's submission."""
