"""xephang."""
