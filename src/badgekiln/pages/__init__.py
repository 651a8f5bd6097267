"""HTML pages: templates, Markdown, the page contexts and the static assets."""
