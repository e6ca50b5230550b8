"""The SFTP tests share one real sshd per session (tests/sshserver.py)."""

from sshserver import sshd  # noqa: F401 (the session fixture)
