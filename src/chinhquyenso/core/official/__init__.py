"""Official documents (văn bản hành chính) in the layout of Nghị định 30/2020/NĐ-CP, Phụ lục I.

`document.OfficialDocument` describes one (issuing agency, number and symbol, place and date, type,
trích yếu, body blocks, recipients, signer, appendices); `docx_writer.write_docx` and
`pdf_writer.write_pdf` print it as Word and PDF, the same page in both. Any app that issues an
official document (the `reports` app's periodic reports, the pest-situation bulletins of `pests`)
fills one in; the writers know nothing of where the words and figures come from."""
