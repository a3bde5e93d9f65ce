"""Content-based routes. Knows nothing of transports."""
from .routes import Route, destinations_for, load_routes

__all__ = ["Route", "destinations_for", "load_routes"]
