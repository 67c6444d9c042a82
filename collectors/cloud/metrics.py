"""What the cloud-capacity source exposes, per cloud and region."""

from __future__ import annotations

from agent.metric_spec import MetricSpec

METRICS = (
    # Cloud capacity (collectors/cloud), per cloud and region; polled by the agent on
    # each cloud's interval, not at scrape time. Base units: vCPUs and bytes.
    MetricSpec("sla_cloud_vcpu_capacity", "gauge", ("cloud", "region"),
               "vCPUs the region offers: sum over Placement providers of (total - reserved) x allocation_ratio."),
    MetricSpec("sla_cloud_vcpu_allocated", "gauge", ("cloud", "region"), "vCPUs allocated to instances (Placement usages, or a generic cloud's mapped used figure)."),
    MetricSpec("sla_cloud_memory_capacity_bytes", "gauge", ("cloud", "region"),
               "Memory the region offers in bytes: (total - reserved) x allocation_ratio of MEMORY_MB (MiB)."),
    MetricSpec("sla_cloud_memory_allocated_bytes", "gauge", ("cloud", "region"), "Memory allocated to instances, in bytes."),
    MetricSpec("sla_cloud_storage_capacity_bytes", "gauge", ("cloud", "region"),
               "Storage the region offers in bytes: Cinder pools' total x (1 - reserved_percentage), "
               "plus Placement DISK_GB when a cloud's storage_sources include it."),
    MetricSpec("sla_cloud_storage_used_bytes", "gauge", ("cloud", "region"), "Storage used in bytes: Cinder pool total - free (plus allocated DISK_GB if configured)."),
    MetricSpec("sla_cloud_utilization_ratio", "gauge", ("cloud", "region", "resource"),
               "Allocated (vcpu, memory) or used (storage) / offered capacity, 0-1; absent when capacity is 0."),
    MetricSpec("sla_cloud_resource_providers", "gauge", ("cloud", "region"),
               "Placement resource providers read in the last poll (a drop explains a capacity drop)."),
)
