"""Class roster import (花名册导入): XLSX or CSV → students, classes, guardians.

`reading` turns a file into rows (or refuses it), `planning` decides what each row means,
`service` applies and records it."""

from .reading import RosterFileError
from .service import roster_import

__all__ = ["RosterFileError", "roster_import"]
