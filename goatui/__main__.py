from goatui.cli import main

raise SystemExit(main())
