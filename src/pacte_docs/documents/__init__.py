"""Making documents: the Jinja environment and fast DOCX renderer, template contexts, PDF conversion, charts,
iCalendar files, and the document store that archives, records and checks every file produced."""
