"""The web edge: FastAPI app, Gradio chat page, widget. Only web/ and app.py import gradio."""
