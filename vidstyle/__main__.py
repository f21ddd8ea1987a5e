import sys

try:
    from .cli import run
except KeyboardInterrupt:  # Ctrl-C while the program is still starting
    sys.exit(130)

run()
