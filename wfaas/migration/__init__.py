"""Moving from Mistral: import a Mistral 23 database into wfaas (``wfaas-db-manage
import-mistral``); see docs/migration.md."""
