from msetool.cli.main import entry

entry()
