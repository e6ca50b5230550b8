"""The SQL source transport (`type: sql`): see docs/transports/sql.md.

Importing this package stays light (pydantic models only): SQLAlchemy and the database
drivers are imported when a fetch starts.
"""
