"""The Vietnamese names of the audit actions the open-data app records (core.registry.AUDIT_ACTIONS):
a dataset's step is "opendata.<action>"; an edit in the administration "opendata.<model>.<create|update|delete>"."""

from chinhquyenso.core.registry import CodeLabels

DATASET_ACTIONS: dict[str, str] = {}

AUDIT_ACTIONS = CodeLabels(exact=DATASET_ACTIONS)
