"""Report layer: the result protocol, number formatting and the chart theme."""
