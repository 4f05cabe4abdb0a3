"""Spend: budgets that refuse a booking past a cap, what providers billed, where the money
went (selectors.py, the spend page and its CSV) and reconciliation against usage exports."""
