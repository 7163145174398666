"""The table generator behind tools/gen_tables.py, one module per concern."""
