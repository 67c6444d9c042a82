"""sla-agent: SLA monitoring agent for a municipal big-data and e-government center."""

__version__ = "0.1.0"
