"""What is derived from the KPI catalogue and a config: rules, dashboards, the README's tables.

queries.py writes each KPI's PromQL once; alerting.py holds the SLO
arithmetic (burn-rate windows). rules.py (with the alert texts of
alert_texts.py) writes the Prometheus recording and alerting rules,
dashboards.py (with each source's own, collectors/*/dashboard.py) the
Grafana dashboards from the builders of grafana.py and dashboards_common.py; docs.py the README's
reference tables. All are pure but for ``write`` / ``main``; the CLI glue is
agent/cli.py (``sla-agent rules`` / ``dashboards``).
"""
