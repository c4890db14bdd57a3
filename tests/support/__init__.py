"""Helpers shared by the test modules (plain functions and classes; the fixtures are in conftest.py).

Test modules never import each other: what two of them share lives here.
"""
