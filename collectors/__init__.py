"""The collectors: one package per source, each declaring itself in its ``source.py`` (agent/sources.py)."""

# The source packages, in the order their collectors are built and polled.
PACKAGES = ("snmp", "cloud", "sms", "probes", "power", "scans", "incidents")
