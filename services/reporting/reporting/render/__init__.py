"""Renderers: a report's sections to XLSX (openpyxl) and PDF (reportlab, charts by matplotlib)."""
