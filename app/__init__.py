"""The Streamlit app's page modules and small screen components (dashboard.py is the front door)."""
