"""The Twenty CRM adapter: REST records, metadata and workspace members.

Written from Twenty's documented behaviour (shared/reference/twenty-api.md), never from the
sandbox's code, so a misreading in one is caught by the other.
"""

from adapters.twenty._http import redact
from adapters.twenty.client import TwentyClient

__all__ = ["TwentyClient", "redact"]
