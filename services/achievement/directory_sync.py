"""`python -m services.achievement.directory_sync`: keep achievement's local copy of master data."""

from shared.directory_copy import run_directory_sync

if __name__ == "__main__":
    run_directory_sync("achievement")
