"""``python -m compliance.demo``: run the demo harness once."""

from compliance.demo.harness import main

raise SystemExit(main())
