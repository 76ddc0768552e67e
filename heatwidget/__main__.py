from heatwidget._cli import main

raise SystemExit(main())
