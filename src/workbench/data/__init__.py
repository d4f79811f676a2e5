"""Data layer: cleaning rules, order predicates and customer features shared by the analyses."""
