"""crm-workbench: notebook-based research workbench for CRM and precision marketing."""

__version__ = "0.1.0"
