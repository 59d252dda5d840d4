"""The rollback tests' seeded, migrated sandbox serves the reports too."""

from tests.rollback.conftest import migrated
from tests.run.conftest import key_env

__all__ = ["key_env", "migrated"]
