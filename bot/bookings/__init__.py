"""Bookings of the city's 子育て支援センター: the centers of the city pack and the seats in Redis."""

from bot.bookings.pack import Centers, PackError, load_centers
from bot.bookings.store import BookingStore, Forgotten, NoSuchCenter, parse_slot_id, template_slot_id

__all__ = ["BookingStore", "Centers", "Forgotten", "NoSuchCenter", "PackError", "load_centers",
           "parse_slot_id", "template_slot_id"]
