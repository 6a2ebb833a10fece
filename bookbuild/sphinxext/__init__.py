"""The book's Sphinx extensions, one fix each, listed in ``_config.yml``.

- :mod:`~bookbuild.sphinxext.math_svg`: formulas drawn as SVG at build time.
- :mod:`~bookbuild.sphinxext.thebe`: sphinx-thebe's configuration script once per page.
- :mod:`~bookbuild.sphinxext.exec_table`: the execution table's status in words.
- :mod:`~bookbuild.sphinxext.launch_links`: Colab and Binder open exported notebooks.
- :mod:`~bookbuild.sphinxext.page_speed`: each page loads only what it uses.
"""
