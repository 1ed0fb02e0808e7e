"""Entity linking: text -> KG entities (with negation and uncertainty), built from the KG's dictionary."""
