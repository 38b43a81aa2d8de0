"""``python -m sdd_build``."""

from sdd_build.cli import main

if __name__ == "__main__":
    main()
