from overlay.cli import entry

entry()
