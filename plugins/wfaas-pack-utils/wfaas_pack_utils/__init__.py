"""wfaas-pack-utils: utility actions registered through ``wfaas.actions`` entry points."""

__version__ = "0.1.0"
