"""The web pages served on the queue server's port: the managers' overview and reports
(with CSV/Excel exports), their login, and the citizens' public ticket page.

``server.web.routes`` registers every page in ``server.http``'s route table.
"""
