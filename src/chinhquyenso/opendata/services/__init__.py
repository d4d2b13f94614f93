"""Every write of the open-data portal: datasets (datasets.py) and their resources (resources.py)."""
