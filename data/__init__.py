"""Getting, checking and storing stop-and-search and use-of-force data (never imports streamlit)."""
