"""The command-line interface: presentation, files and exit codes live here, never in the library."""
