"""Official reports: a neutral document structure (`document`), its DOCX and PDF
writers (Nghị định 30/2020), and `cqs report check`, which verifies the ratios
and totals printed in a report (`checker`)."""
