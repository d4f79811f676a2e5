"""Core layer: errors, params, the data contract, intake, privacy. Imports nothing above it."""
