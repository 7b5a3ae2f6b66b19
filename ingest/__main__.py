"""`python -m ingest`: see ingest/cli.py."""

from ingest.cli import main

if __name__ == "__main__":
    main()
