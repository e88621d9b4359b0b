"""`python -m ecomm_cli.detect`: rewrite the rules tables of the docs from the rules manifest."""

from ecomm_cli.detect.manifest import main

main()
