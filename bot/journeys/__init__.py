"""Journey messages (伴走型相談支援): a registered family hears from the city at the moments the
city's document names, and a parent pointed to a window is asked later whether they got through."""

from bot.journeys.pack import load_plan
from bot.journeys.store import JourneyStore

__all__ = ["JourneyStore", "load_plan"]
