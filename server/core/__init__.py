"""The queue rules as pure functions: ``handle(state, command, now) -> (state, events)``.

Nothing in this package reads a clock, touches a socket or a database; the server feeds
it commands with the time and persists the events it returns.
"""
