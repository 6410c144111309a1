from vksroom.cli import main

raise SystemExit(main())
