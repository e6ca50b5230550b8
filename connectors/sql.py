"""`type: sql`: a table or a query of a SQL database, read in keyset chunks by a watermark
column and a tiebreak key (see docs/transports/sql.md). The code lives in
`connectors.sqlsource`; this module is the name the registry imports."""

from connectors.sqlsource.config import SqlConfig, SqlStream
from connectors.sqlsource.transport import SqlTransport

__all__ = ["SqlConfig", "SqlStream", "SqlTransport"]
