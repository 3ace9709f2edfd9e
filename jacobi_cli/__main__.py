import _signal  # the interpreter's built-in module: `signal` would import enum first, interruptible
import os

try:  # first of all, before any import: Ctrl-C while Python imports jac exits 130 quietly
    _signal.signal(_signal.SIGINT, lambda signum, frame: os._exit(130))
except ValueError:  # not the main thread (runpy in a thread): not ours to handle
    pass

import sys  # noqa: E402

from .cli.entry import main  # noqa: E402

sys.exit(main())
