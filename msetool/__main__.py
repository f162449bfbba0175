from msetool.cli.main import main

main()
