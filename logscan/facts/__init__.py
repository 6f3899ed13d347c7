"""The facts layer: each fact that several sources can tell is decided here, once."""
