"""The REST transport (`type: rest`): see docs/transports/rest.md.

Importing this package stays light (pydantic models only): requests and tenacity are
imported when a transport first talks to an API.
"""

from connectors.rest.transport import RestTransport

__all__ = ["RestTransport"]
