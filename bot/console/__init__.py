"""The staff console at /console/: city staff sign in, take over chats from the handoff queue,
answer in the parent's language, and run the centers' bookings (bot.console.web installs it)."""
