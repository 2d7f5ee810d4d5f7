"""ASGI entry point for production servers: `uvicorn gongzhi.asgi:app`."""
from gongzhi.app import create_app

app = create_app()
