"""Test helpers shared by several test modules (not tests themselves).

``support.httpserver``: a fault-injecting HTTP server on 127.0.0.1 serving a mirror-layout folder.

Import as ``from support.httpserver import Fault, serve_folder``: pytest puts ``tests/`` on
``sys.path`` because ``tests/conftest.py`` is a rootdir conftest in a folder without
``__init__.py`` (the default "prepend" import mode).
"""
