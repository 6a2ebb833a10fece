"""Building the book on an offline GPU host: see ``README.md`` in this folder.

- :mod:`~bookbuild.gpu.run_pages`: run pages with errors allowed and report them.
- :mod:`~bookbuild.gpu.record`: write ``benchmarks/GPU.md`` from what the host returned.
"""
