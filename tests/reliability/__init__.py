"""Reliability and security harnesses: a real server in a separate process, crash-and-restart
drivers, hostile clients and fuzzers. The tests that use them are tests/test_crash_safety.py,
test_fuzz_server.py, test_hostile_clients.py, test_tls.py, test_backup_restore.py and
test_client_resilience.py; scripts/reliability.sh runs the longer variants."""
