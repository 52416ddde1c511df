"""Data in and out: reading YAML/CSV/XLSX, the import format's rules, the importer and the exporter."""
