"""What the power source exposes, per unit (collectors/power)."""

from __future__ import annotations

from agent.metric_spec import MetricSpec

METRICS = (
    # UPS and cabinets, per unit; refreshed on each unit's interval, not at scrape time. A poll that
    # fails leaves them absent (sla_target_up{collector="power"} is 0): unknown, never normal.
    MetricSpec("sla_power_fault", "gauge", ("unit", "condition"),
               "1 while a fault condition of the unit's profile holds (on_battery, bypass, output_off, battery_low, "
               "alarm, input_failure, breaker_open, phase_loss, ...), else 0; absent while it cannot be read. "
               "input_failure is 1 for the one poll that saw the device's input failure counter go up."),
    MetricSpec("sla_power_output_source", "gauge", ("unit",),
               "UPS-MIB upsOutputSource of a UPS: 1 other, 2 none (no output), 3 normal, 4 bypass, 5 battery, "
               "6 booster, 7 reducer."),
    MetricSpec("sla_power_battery_status", "gauge", ("unit",),
               "UPS-MIB upsBatteryStatus of a UPS: 1 unknown, 2 normal, 3 low, 4 depleted."),
    MetricSpec("sla_power_alarms_present", "gauge", ("unit",),
               "Alarms the unit reports at present (UPS-MIB upsAlarmsPresent, or the cabinet profile's alarm count)."),
    MetricSpec("sla_power_input_line_bads_total", "counter", ("unit",),
               "The device's own count of input failures (UPS-MIB upsInputLineBads: times the input went out of "
               "tolerance, or the cabinet profile's input failure counter); it restarts when the card reboots."),
    MetricSpec("sla_power_breaker_state", "gauge", ("unit",),
               "A cabinet's main breaker as its profile reads it (cabinet-generic: 1 closed, 2 open, 3 tripped)."),
)

# The reading a profile declares (collectors/power/profile.py READINGS) -> the family it is exposed as.
READING_METRICS = {
    "output_source": "sla_power_output_source",
    "battery_status": "sla_power_battery_status",
    "alarms_present": "sla_power_alarms_present",
    "input_line_bads": "sla_power_input_line_bads_total",
    "breaker_state": "sla_power_breaker_state",
}
