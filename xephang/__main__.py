import sys

from xephang.cli import main

sys.exit(main())
