from heatwidget.cli import main

raise SystemExit(main())
