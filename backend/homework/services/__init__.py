"""Writes of the homework app (see the modules for the rules of each)."""

from .assignments import (
    SOURCE_ASSIGNMENT,
    assignment_close,
    assignment_create,
    assignment_remind,
    assignment_update,
)
from .feedback import SOURCE_FEEDBACK, feedback_give
from .submissions import SOURCE_SUBMISSION, SubmitResult, submission_create

__all__ = [
    "SOURCE_ASSIGNMENT",
    "SOURCE_FEEDBACK",
    "SOURCE_SUBMISSION",
    "SubmitResult",
    "assignment_close",
    "assignment_create",
    "assignment_remind",
    "assignment_update",
    "feedback_give",
    "submission_create",
]
