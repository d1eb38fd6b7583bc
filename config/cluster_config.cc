// config: filled in by the YAML work.
