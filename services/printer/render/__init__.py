"""PDF building (ReportLab) and the PDF/A finish (pikepdf): the printer's renderer."""
