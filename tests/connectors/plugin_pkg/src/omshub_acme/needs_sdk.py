"""A transport whose vendor SDK is not installed: importing it fails."""

from __future__ import annotations

import acme_vendor_sdk  # type: ignore[import-not-found]  # noqa: F401  (not installed)


class SdkTransport:
    kind = "acme_no_sdk"
