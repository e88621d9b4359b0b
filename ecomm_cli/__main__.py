from ecomm_cli.app import main

main()
