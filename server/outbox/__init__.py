"""The outbox process: what committed events cause outside the server (issue 16).

The event log (the ``events`` table, written in the writer's commit) is the outbox; a
process of its own (process.py) hands new events to consumers (consumer.py): one per
webhook subscription (webhooks.py) and the citizen notifications (notify.py).
"""
