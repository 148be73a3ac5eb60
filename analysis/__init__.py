"""Statistics and figures over the canonical records (never imports streamlit, never touches the network)."""
