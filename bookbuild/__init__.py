"""bookbuild: the machinery that builds, checks and benchmarks the book.

It is not installed (``pip install .`` installs only ``cnnbook``, the readers'
package): run its modules from the repository root, as the Makefile does, with
``python -m bookbuild.<module>``. The tests and checks import it from there too
(``pythonpath`` in ``pyproject.toml``).

- :mod:`bookbuild.paths`: where the sources and the build outputs are.
- :mod:`bookbuild.config`: the pages of ``_toc.yml``, the settings of ``_config.yml``.
- :mod:`bookbuild.pages`: a page read as myst-nb reads it; its visible code.
- :mod:`bookbuild.cache`: the execution cache, and when it is cleared (the whole story).
- :mod:`bookbuild.preexecute`: runs the uncached pages in parallel before Sphinx.
- :mod:`bookbuild.export_notebooks`: each chapter as a plain, executed ``.ipynb``.
- :mod:`bookbuild.weights`: MobileNetV2 weights into torch's cache, with no download.
- :mod:`bookbuild.bundle`: ``make bundle``, what a machine with no network needs.
- :mod:`bookbuild.offline`: checks a bundle and installs from it (``OFFLINE_BUNDLE``).
- :mod:`bookbuild.benchmark`: ``make bench``, writes ``benchmarks/RESULTS.md``.
- :mod:`bookbuild.lighthouse`: ``make lighthouse``, page speed on a phone, into it too.
- :mod:`bookbuild.sphinxext`: the Sphinx extensions ``_config.yml`` loads.
- :mod:`bookbuild.gpu`: the offline build on a GPU host; writes ``benchmarks/GPU.md``.
"""
