"""Data-center power: UPS and distribution cabinets over SNMP (数据中心供电零故障)."""
